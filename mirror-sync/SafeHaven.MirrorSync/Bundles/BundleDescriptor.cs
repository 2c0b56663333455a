using System.Buffers;
using System.Globalization;
using System.Text.Json;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>One file a bundle carries (other than <c>bundle.json</c> and its signature): where, how large, its SHA-256.</summary>
public sealed record BundleMember(string Path, long Size, string Sha256);

/// <summary>
/// <c>bundle.json</c>: what a signed snapshot bundle holds. One snapshot of one ecosystem; for an incremental bundle
/// the snapshot it is based on (<see cref="Base"/>, whose blobs the bundle leaves out). Every member file is listed
/// with its size and SHA-256: the snapshot manifest (<see cref="BundleLayout.SnapshotMember"/>) first, then each blob
/// under <c>blobs/&lt;aa&gt;/&lt;sha256&gt;</c> in digest order. Parsing is strict: an unknown, missing or repeated
/// member, a path outside the layout, a repeated path or a blob member whose name is not its digest is refused.
/// </summary>
public sealed record BundleDescriptor(
    int FormatVersion,
    string Ecosystem,
    string Snapshot,
    string? Base,
    int Tier,
    DateTimeOffset CreatedAt,
    string Signer,
    IReadOnlyList<BundleMember> Members)
{
    public const string Format = "safehaven-snapshot-bundle";
    public const int CurrentFormatVersion = 1;

    /// <summary>bundle.json is read whole to verify its signature; a larger one is refused (about 2.5 million members).</summary>
    public const int MaxBytes = 256 * 1024 * 1024;

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512 + Members.Count * 140);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteNumber("formatVersion", FormatVersion);
            writer.WriteString("ecosystem", Ecosystem);
            writer.WriteString("snapshot", Snapshot);
            if (Base is null)
            {
                writer.WriteNull("base");
            }
            else
            {
                writer.WriteString("base", Base);
            }
            writer.WriteNumber("tier", Tier);
            writer.WriteString("createdAt", SnapshotManifest.FormatInstant(CreatedAt));
            writer.WriteString("signer", Signer);
            writer.WriteStartArray("members");
            foreach (var member in Members)
            {
                writer.WriteStartObject();
                writer.WriteString("path", member.Path);
                writer.WriteNumber("size", member.Size);
                writer.WriteString("sha256", member.Sha256);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads bundle.json strictly; <see cref="InvalidDataException"/> names what is wrong.</summary>
    public static BundleDescriptor Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
            if (json[(int)reader.BytesConsumed..].IndexOfAnyExcept(" \t\r\n"u8) >= 0)
            {
                throw new InvalidDataException("bundle.json has content after its JSON object.");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"bundle.json is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var m = Fields(document.RootElement, "bundle.json", ["format", "formatVersion", "ecosystem", "snapshot", "base", "tier", "createdAt", "signer", "members"]);
            if (String(m["format"], "format") != Format)
            {
                throw new InvalidDataException($"bundle.json's format is '{m["format"]}', not '{Format}'.");
            }
            var version = Int(m["formatVersion"], "formatVersion");
            if (version != CurrentFormatVersion)
            {
                throw new InvalidDataException($"bundle.json has formatVersion {version}; this appliance reads only {CurrentFormatVersion}.");
            }
            var ecosystem = String(m["ecosystem"], "ecosystem");
            if (!SnapshotManifest.Ecosystems.Contains(ecosystem))
            {
                throw new InvalidDataException($"bundle.json's ecosystem '{ecosystem}' is not one of {string.Join(", ", SnapshotManifest.Ecosystems)}.");
            }
            var snapshot = Digest(m["snapshot"], "snapshot");
            var @base = m["base"].ValueKind == JsonValueKind.Null ? null : Digest(m["base"], "base");
            var tier = Int(m["tier"], "tier");
            if (tier is < 0 or > 4)
            {
                throw new InvalidDataException($"bundle.json's tier {tier} is not 0 to 4.");
            }
            var createdText = String(m["createdAt"], "createdAt");
            if (!DateTimeOffset.TryParseExact(createdText, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var createdAt))
            {
                throw new InvalidDataException($"bundle.json's createdAt '{createdText}' is not a UTC time (yyyy-MM-ddTHH:mm:ssZ).");
            }
            var signer = String(m["signer"], "signer");
            if (signer.Length is not (40 or 64) || signer.Any(c => !char.IsAsciiDigit(c) && !char.IsAsciiHexDigitUpper(c)))
            {
                throw new InvalidDataException($"bundle.json's signer '{signer}' is not an OpenPGP fingerprint (upper-case hex).");
            }
            if (m["members"].ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("bundle.json's members is not an array.");
            }
            var members = new List<BundleMember>(m["members"].GetArrayLength());
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in m["members"].EnumerateArray())
            {
                var where = $"member {index}";
                var f = Fields(item, where, ["path", "size", "sha256"]);
                var path = String(f["path"], $"{where} path");
                if (!f["size"].TryGetInt64(out var size) || size < 0)
                {
                    throw new InvalidDataException($"bundle.json's {where} ({path}) has no valid size.");
                }
                var sha = Digest(f["sha256"], $"{where} sha256");
                if (!BundleLayout.IsMemberPath(path))
                {
                    throw new InvalidDataException($"bundle.json's {where} path '{path}' is neither {BundleLayout.SnapshotMember} nor blobs/<aa>/<sha256>.");
                }
                if (path != BundleLayout.SnapshotMember && path != BundleLayout.BlobPath(sha))
                {
                    throw new InvalidDataException($"bundle.json's {where} path '{path}' does not match its sha256 {sha}.");
                }
                if (!seen.Add(path))
                {
                    throw new InvalidDataException($"bundle.json lists {path} twice.");
                }
                members.Add(new BundleMember(path, size, sha));
                index++;
            }
            if (!seen.Contains(BundleLayout.SnapshotMember))
            {
                throw new InvalidDataException($"bundle.json lists no {BundleLayout.SnapshotMember} (the snapshot manifest).");
            }
            return new BundleDescriptor(version, ecosystem, snapshot, @base, tier, createdAt, signer, members);
        }
    }

    private static Dictionary<string, JsonElement> Fields(JsonElement element, string where, string[] expected)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"bundle.json's {where} is not an object.");
        }
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(expected, property.Name) < 0)
            {
                throw new InvalidDataException($"bundle.json's {where} has an unknown member '{property.Name}'.");
            }
            if (!members.TryAdd(property.Name, property.Value))
            {
                throw new InvalidDataException($"bundle.json's {where} repeats the member '{property.Name}'.");
            }
        }
        foreach (var name in expected)
        {
            if (!members.ContainsKey(name))
            {
                throw new InvalidDataException($"bundle.json's {where} has no member '{name}'.");
            }
        }
        return members;
    }

    private static string String(JsonElement element, string name) => element.ValueKind == JsonValueKind.String
        ? element.GetString()!
        : throw new InvalidDataException($"bundle.json's {name} is not a string.");

    private static int Int(JsonElement element, string name) => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value)
        ? value
        : throw new InvalidDataException($"bundle.json's {name} is not an integer.");

    private static string Digest(JsonElement element, string name)
    {
        var value = String(element, name);
        return SnapshotManifest.IsLowerHexDigest(value)
            ? value
            : throw new InvalidDataException($"bundle.json's {name} '{value}' is not a SHA-256 digest (64 lower-case hex digits).");
    }
}
