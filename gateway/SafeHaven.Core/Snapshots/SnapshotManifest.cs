using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace SafeHaven.Core.Snapshots;

/// <summary>
/// One ecosystem's whole served surface at one moment, after policy: every index document and every artifact it
/// includes, each a blob in the blob store. Immutable; its id is the SHA-256 (lower hex) of <see cref="ToCanonicalJson"/>.
/// </summary>
public sealed record SnapshotManifest(
    int FormatVersion,
    string Ecosystem,
    DateTimeOffset CreatedAt,
    int Tier,
    string? Parent,
    string Origin,
    IReadOnlyList<SnapshotEntry> Entries)
{
    /// <summary>The origin absolute URLs in rebased documents are written against; replaced by the request's origin when served.</summary>
    public const string RebaseOrigin = "http://snapshot.safehaven.invalid";

    /// <summary>The host of <see cref="RebaseOrigin"/>.</summary>
    public const string RebaseHost = "snapshot.safehaven.invalid";

    public const int CurrentFormatVersion = 1;

    /// <summary>The ecosystems a snapshot can belong to.</summary>
    public static readonly IReadOnlySet<string> Ecosystems = new HashSet<string>(["pypi", "cran", "nuget", "conda", "apt"], StringComparer.Ordinal);

    /// <summary>How a snapshot came to be.</summary>
    public static readonly IReadOnlySet<string> Origins = new HashSet<string>(["sync", "import"], StringComparer.Ordinal);

    /// <summary>Orders entries as the canonical form does: by path (ordinal), then media type (ordinal).</summary>
    public static readonly IComparer<SnapshotEntry> EntryOrder = Comparer<SnapshotEntry>.Create((a, b) =>
    {
        var byPath = string.CompareOrdinal(a.Path, b.Path);
        return byPath != 0 ? byPath : string.CompareOrdinal(a.MediaType, b.MediaType);
    });

    /// <summary>
    /// The canonical form: UTF-8 JSON without BOM or insignificant white space, camelCase, every member always present,
    /// strings escaped minimally (only what JSON requires, plus control characters),
    /// entries ordered by path then media type. Throws <see cref="InvalidDataException"/> for a manifest that is not valid.
    /// </summary>
    public byte[] ToCanonicalJson()
    {
        var entries = Entries.ToArray();
        Array.Sort(entries, EntryOrder);
        Validate(this, entries);
        var buffer = new ArrayBufferWriter<byte>(256 + entries.Length * 160);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("formatVersion", FormatVersion);
            writer.WriteString("ecosystem", Ecosystem);
            writer.WriteString("createdAt", FormatInstant(CreatedAt));
            writer.WriteNumber("tier", Tier);
            if (Parent is null)
            {
                writer.WriteNull("parent");
            }
            else
            {
                writer.WriteString("parent", Parent);
            }
            writer.WriteString("origin", Origin);
            writer.WriteStartArray("entries");
            foreach (var entry in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("path", entry.Path);
                writer.WriteString("mediaType", entry.MediaType);
                writer.WriteString("sha256", entry.Sha256);
                writer.WriteNumber("size", entry.Size);
                writer.WriteString("kind", entry.Kind == SnapshotEntryKind.Artifact ? "artifact" : "document");
                writer.WriteBoolean("rebase", entry.Rebase);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The snapshot's id: the SHA-256 (lower hex) of the canonical JSON.</summary>
    public string ComputeId() => Convert.ToHexStringLower(SHA256.HashData(ToCanonicalJson()));

    /// <summary>
    /// Reads a manifest, strictly: every member present with its type, no unknown or repeated member, valid values,
    /// no two entries with the same path and media type. Throws <see cref="InvalidDataException"/> naming the reason.
    /// </summary>
    public static SnapshotManifest Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false, MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed != json.Length && json[(int)reader.BytesConsumed..].IndexOfAnyExcept(" \t\r\n"u8) >= 0)
            {
                throw new InvalidDataException("The snapshot manifest has content after its JSON object.");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The snapshot manifest is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            var members = Members(root, "the snapshot manifest", ["formatVersion", "ecosystem", "createdAt", "tier", "parent", "origin", "entries"]);
            var formatVersion = Int(members["formatVersion"], "formatVersion");
            if (formatVersion != CurrentFormatVersion)
            {
                throw new InvalidDataException($"The snapshot manifest has formatVersion {formatVersion}; this appliance reads only {CurrentFormatVersion}.");
            }
            var createdAtText = String(members["createdAt"], "createdAt");
            if (!DateTimeOffset.TryParseExact(createdAtText, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var createdAt))
            {
                throw new InvalidDataException($"The snapshot manifest's createdAt '{createdAtText}' is not a UTC time in whole seconds (yyyy-MM-ddTHH:mm:ssZ).");
            }
            var parent = members["parent"].ValueKind == JsonValueKind.Null ? null : String(members["parent"], "parent");
            var entriesElement = members["entries"];
            if (entriesElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("The snapshot manifest's entries is not an array.");
            }
            var entries = new List<SnapshotEntry>(entriesElement.GetArrayLength());
            var index = 0;
            foreach (var item in entriesElement.EnumerateArray())
            {
                var where = $"entry {index}";
                var fields = Members(item, where, ["path", "mediaType", "sha256", "size", "kind", "rebase"]);
                var kind = String(fields["kind"], $"{where} kind") switch
                {
                    "document" => SnapshotEntryKind.Document,
                    "artifact" => SnapshotEntryKind.Artifact,
                    var other => throw new InvalidDataException($"The snapshot manifest's {where} has kind '{other}' (expected document or artifact)."),
                };
                if (fields["rebase"].ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw new InvalidDataException($"The snapshot manifest's {where} rebase is not a boolean.");
                }
                if (!fields["size"].TryGetInt64(out var size))
                {
                    throw new InvalidDataException($"The snapshot manifest's {where} size is not an integer.");
                }
                entries.Add(new SnapshotEntry(
                    String(fields["path"], $"{where} path"), String(fields["mediaType"], $"{where} mediaType"),
                    String(fields["sha256"], $"{where} sha256"), size, kind, fields["rebase"].GetBoolean()));
                index++;
            }
            var manifest = new SnapshotManifest(formatVersion, String(members["ecosystem"], "ecosystem"), createdAt,
                Int(members["tier"], "tier"), parent, String(members["origin"], "origin"), entries);
            var sorted = entries.ToArray();
            Array.Sort(sorted, EntryOrder);
            Validate(manifest, sorted);
            return manifest;
        }
    }

    /// <summary>An instant as the manifest writes it: UTC, whole seconds, <c>yyyy-MM-ddTHH:mm:ssZ</c>.</summary>
    public static string FormatInstant(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="value"/> is a SHA-256 digest in lower-case hex.</summary>
    public static bool IsLowerHexDigest(string? value) =>
        value is { Length: 64 } && value.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>
    /// Whether <paramref name="path"/> is a valid entry path: relative (no leading slash), query- and fragment-less,
    /// no backslash, white space or control characters, no <c>.</c> or <c>..</c> segment.
    /// </summary>
    public static bool IsValidPath(string path)
    {
        if (path.StartsWith('/') || path.AsSpan().IndexOfAny("?#\\") >= 0)
        {
            return false;
        }
        foreach (var c in path)
        {
            if (c <= ' ' || c == '\u007f')
            {
                return false;
            }
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or ".." || segment.Equals("%2e", StringComparison.OrdinalIgnoreCase) || segment.Equals("%2e%2e", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        return !path.Contains("//", StringComparison.Ordinal);
    }

    private static void Validate(SnapshotManifest manifest, SnapshotEntry[] sortedEntries)
    {
        if (manifest.FormatVersion != CurrentFormatVersion)
        {
            throw new InvalidDataException($"The snapshot manifest has formatVersion {manifest.FormatVersion}; only {CurrentFormatVersion} is defined.");
        }
        if (manifest.Ecosystem is null || !Ecosystems.Contains(manifest.Ecosystem))
        {
            throw new InvalidDataException($"The snapshot manifest's ecosystem '{manifest.Ecosystem}' is not one of {string.Join(", ", Ecosystems)}.");
        }
        if (manifest.CreatedAt.Offset != TimeSpan.Zero || manifest.CreatedAt.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new InvalidDataException($"The snapshot manifest's createdAt {manifest.CreatedAt:O} is not a UTC time in whole seconds.");
        }
        if (manifest.Tier is < 0 or > 4)
        {
            throw new InvalidDataException($"The snapshot manifest's tier {manifest.Tier} is not 0 to 4.");
        }
        if (manifest.Parent is not null && !IsLowerHexDigest(manifest.Parent))
        {
            throw new InvalidDataException($"The snapshot manifest's parent '{manifest.Parent}' is not a snapshot id (64 lower-case hex digits).");
        }
        if (manifest.Origin is null || !Origins.Contains(manifest.Origin))
        {
            throw new InvalidDataException($"The snapshot manifest's origin '{manifest.Origin}' is not sync or import.");
        }
        SnapshotEntry? previous = null;
        foreach (var entry in sortedEntries)
        {
            if (entry is null)
            {
                throw new InvalidDataException("The snapshot manifest has a null entry.");
            }
            if (entry.Path is null || !IsValidPath(entry.Path))
            {
                throw new InvalidDataException($"The snapshot manifest's entry path '{entry.Path}' is not a relative, query-less wire path.");
            }
            if (string.IsNullOrEmpty(entry.MediaType) || entry.MediaType.Any(c => c < ' ' || c == '\u007f'))
            {
                throw new InvalidDataException($"The snapshot manifest's entry {entry.Path} has no valid media type.");
            }
            if (!IsLowerHexDigest(entry.Sha256))
            {
                throw new InvalidDataException($"The snapshot manifest's entry {entry.Path} has sha256 '{entry.Sha256}', not 64 lower-case hex digits.");
            }
            if (entry.Size < 0)
            {
                throw new InvalidDataException($"The snapshot manifest's entry {entry.Path} has a negative size.");
            }
            if (!Enum.IsDefined(entry.Kind))
            {
                throw new InvalidDataException($"The snapshot manifest's entry {entry.Path} has an unknown kind.");
            }
            if (previous is not null && EntryOrder.Compare(previous, entry) == 0)
            {
                throw new InvalidDataException($"The snapshot manifest lists {entry.Path} ({entry.MediaType}) twice.");
            }
            previous = entry;
        }
    }

    private static Dictionary<string, JsonElement> Members(JsonElement element, string where, string[] expected)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"The snapshot manifest's {where} is not an object.");
        }
        var members = new Dictionary<string, JsonElement>(expected.Length, StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(expected, property.Name) < 0)
            {
                throw new InvalidDataException($"The snapshot manifest's {where} has an unknown member '{property.Name}'.");
            }
            if (!members.TryAdd(property.Name, property.Value))
            {
                throw new InvalidDataException($"The snapshot manifest's {where} repeats the member '{property.Name}'.");
            }
        }
        foreach (var name in expected)
        {
            if (!members.ContainsKey(name))
            {
                throw new InvalidDataException($"The snapshot manifest's {where} has no member '{name}'.");
            }
        }
        return members;
    }

    private static string String(JsonElement element, string name) => element.ValueKind == JsonValueKind.String
        ? element.GetString()!
        : throw new InvalidDataException($"The snapshot manifest's {name} is not a string.");

    private static int Int(JsonElement element, string name) => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value)
        ? value
        : throw new InvalidDataException($"The snapshot manifest's {name} is not an integer.");
}
