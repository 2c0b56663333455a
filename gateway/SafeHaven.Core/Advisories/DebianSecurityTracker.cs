using System.Text.Json;
using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Advisories;

/// <summary>
/// The newest version of a Debian <b>source</b> package that the Debian security tracker names as fixed in a
/// release (by codename), with the tracker entry (CVE, DSA or TEMP id) that names it and how many resolved entries
/// name a fix for that (source, codename) in all.
/// </summary>
public sealed record TrackerFix(string Source, string Codename, DebianVersion FixedVersion, string EntryId, int EntryCount);

/// <summary>
/// Reads the Debian security tracker's JSON export (the document the tracker publishes at <c>/tracker/data/json</c>):
/// an object keyed by source package, then by entry id (CVE/DSA/TEMP), whose values carry <c>releases</c>, keyed by
/// codename, each with a <c>status</c> (<c>resolved</c>, <c>open</c>, <c>undetermined</c>) and, when resolved, a
/// <c>fixed_version</c> (<c>"0"</c>: the release was never affected). Only what the fast-track needs is kept, the
/// newest real fixed version per (source, codename): the real export is about 80 MB, so it is read as a token stream
/// with a buffer bounded by the largest single token, never as a document.
/// </summary>
public static class DebianSecurityTracker
{
    private const int InitialBuffer = 64 * 1024;

    /// <summary>A single JSON token longer than this is refused (the real export's longest, a description, is a few KB).</summary>
    public const int MaximumTokenBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Reads <paramref name="stream"/> if it has the tracker's shape: null when its content is not a tracker export
    /// (a top-level array, a top-level property whose value is not an object, an entry that is not an object, or no
    /// entry with <c>releases</c> at all: an OSV record, for one). Once the first entry with <c>releases</c> has shown
    /// the shape, anything else that breaks it is an <see cref="InvalidDataException"/>, as is malformed JSON
    /// (<see cref="JsonException"/>): the file is then skipped whole.
    /// </summary>
    public static Dictionary<(string Source, string Codename), TrackerFix>? TryRead(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var fixes = new Dictionary<(string, string), TrackerFix>();
        var buffer = new byte[InitialBuffer];
        var filled = 0;
        var finalBlock = false;
        var state = default(JsonReaderState);
        var walker = new Walker(fixes);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!finalBlock && filled < buffer.Length)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                if (read == 0)
                {
                    finalBlock = true;
                }
                filled += read;
            }
            var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), finalBlock, state);
            while (reader.Read())
            {
                switch (walker.Accept(ref reader))
                {
                    case Verdict.NotTracker:
                        return null;
                    case Verdict.Continue:
                        break;
                }
            }
            if (finalBlock && reader.BytesConsumed == filled)
            {
                break;
            }
            state = reader.CurrentState;
            var consumed = (int)reader.BytesConsumed;
            if (consumed == 0 && filled == buffer.Length)
            {
                // One token does not fit: grow, up to the bound.
                if (buffer.Length >= MaximumTokenBytes)
                {
                    throw new InvalidDataException($"a JSON token is longer than {MaximumTokenBytes} bytes");
                }
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaximumTokenBytes));
                continue;
            }
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
            if (finalBlock && consumed == 0)
            {
                throw new InvalidDataException("the JSON document ends early");
            }
        }
        return walker.SawReleases ? fixes : null;
    }

    private enum Verdict
    {
        Continue,
        NotTracker,
    }

    /// <summary>
    /// Follows the path of the current token: depth 1 the source package, 2 the entry id, 3 a field of the entry
    /// (<c>releases</c>), 4 a codename, 5 a field of that release (<c>status</c>, <c>fixed_version</c>). Everything
    /// else (descriptions, <c>repositories</c>, <c>urgency</c>, unknown fields) is passed over.
    /// </summary>
    private sealed class Walker(Dictionary<(string, string), TrackerFix> fixes)
    {
        private readonly string?[] _path = new string?[6];
        private int _depth; // number of containers open
        private string? _property;
        private string? _status;
        private string? _fixedVersion;

        public bool SawReleases { get; private set; }

        public Verdict Accept(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    // Only names on the path are kept as strings; deeper ones are not needed.
                    _property = _depth <= 5 ? reader.GetString() : null;
                    return Verdict.Continue;
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    if (reader.TokenType == JsonTokenType.StartArray && _depth <= 2)
                    {
                        return Shape("a source package or an entry is an array, not an object");
                    }
                    if (_depth < _path.Length)
                    {
                        _path[_depth] = _property;
                    }
                    _depth++;
                    if (_depth == 4 && _path[3] == "releases")
                    {
                        SawReleases = true;
                    }
                    if (_depth == 5 && _path[3] == "releases")
                    {
                        _status = null;
                        _fixedVersion = null;
                    }
                    _property = null;
                    return Verdict.Continue;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    if (_depth == 5 && _path[3] == "releases")
                    {
                        Release(_path[1]!, _path[2]!, _path[4]!);
                    }
                    _depth--;
                    _property = null;
                    return Verdict.Continue;
                default:
                    if (_depth <= 2)
                    {
                        return Shape("a source package or an entry is not an object");
                    }
                    if (_depth == 5 && _path[3] == "releases" && reader.TokenType == JsonTokenType.String)
                    {
                        if (_property == "status")
                        {
                            _status = reader.GetString();
                        }
                        else if (_property == "fixed_version")
                        {
                            _fixedVersion = reader.GetString();
                        }
                    }
                    _property = null;
                    return Verdict.Continue;
            }
        }

        private Verdict Shape(string what) =>
            SawReleases ? throw new InvalidDataException($"not the Debian security tracker's shape: {what}") : Verdict.NotTracker;

        private void Release(string source, string id, string codename)
        {
            // Open and undetermined entries name no fix; "0" means the release was never affected: nothing to fast-track.
            if (_status != "resolved" || _fixedVersion is null or "0" || !DebianVersion.TryParse(_fixedVersion, out var version))
            {
                return;
            }
            var key = (source, codename.ToLowerInvariant());
            if (!fixes.TryGetValue(key, out var existing))
            {
                fixes[key] = new TrackerFix(source, key.Item2, version, id, 1);
            }
            else if (version.CompareTo(existing.FixedVersion) > 0)
            {
                fixes[key] = new TrackerFix(source, key.Item2, version, id, existing.EntryCount + 1);
            }
            else
            {
                fixes[key] = existing with { EntryCount = existing.EntryCount + 1 };
            }
        }
    }
}
