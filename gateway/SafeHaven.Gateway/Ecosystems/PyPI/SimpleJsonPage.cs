using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// A PEP 691 project page as read from a stream: System.Text.Json's streaming deserialisation reads the page in
/// buffer-sized pieces and keeps only these records (one <see cref="SimpleJsonFile"/> per file, with the fields the
/// mirror uses), never the page itself, so memory follows the number of files, not the page's size.
/// </summary>
internal sealed class SimpleJsonPage
{
    [JsonPropertyName("meta")]
    public SimpleJsonMeta? Meta { get; set; }

    private string? _name;

    /// <summary>The project's name; null when the page says <c>null</c> (see <see cref="HasName"/> for a page that says nothing).</summary>
    [JsonPropertyName("name")]
    public string? Name
    {
        get => _name;
        set
        {
            _name = value;
            HasName = true;
        }
    }

    /// <summary>Whether the page has a <c>name</c> member at all (required by PEP 691).</summary>
    [JsonIgnore]
    public bool HasName { get; private set; }

    [JsonPropertyName("files")]
    public List<SimpleJsonFile>? Files { get; set; }

    [JsonPropertyName("versions")]
    public List<string?>? Versions { get; set; }
}

internal sealed class SimpleJsonMeta
{
    [JsonPropertyName("api-version")]
    public string? ApiVersion { get; set; }
}

/// <summary>One file entry, read by <see cref="SimpleJsonFileConverter"/>: one small object buffered at a time.</summary>
[JsonConverter(typeof(SimpleJsonFileConverter))]
internal sealed class SimpleJsonFile
{
    public string? Filename { get; set; }
    public string? Url { get; set; }
    public string? Sha256 { get; set; }
    public string? RequiresPython { get; set; }
    public bool CoreMetadata { get; set; }
    public string? CoreMetadataSha256 { get; set; }
    public bool Yanked { get; set; }
    public string? YankedReason { get; set; }
    public long? Size { get; set; }
    public string? UploadTime { get; set; }
}

/// <summary>
/// Reads a file entry as <c>SimpleIndexParser</c> always has: <c>filename</c> and <c>url</c> required strings; the
/// <c>sha256</c> of <c>hashes</c>; PEP 714's <c>core-metadata</c>, else <c>dist-info-metadata</c>, else
/// <c>data-dist-info-metadata</c> (by key priority, not document order); PEP 592 <c>yanked</c> as true or a reason;
/// anything else skipped without being kept.
/// </summary>
internal sealed class SimpleJsonFileConverter : JsonConverter<SimpleJsonFile>
{
    private static readonly string[] MetadataKeys = ["core-metadata", "dist-info-metadata", "data-dist-info-metadata"];

    public override SimpleJsonFile Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a file entry that is not an object");
        }
        var file = new SimpleJsonFile();
        var metadata = new (bool Present, bool Value, string? Sha256)[MetadataKeys.Length];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "filename":
                    file.Filename = RequiredString(ref reader, property);
                    break;
                case "url":
                    file.Url = RequiredString(ref reader, property);
                    break;
                case "hashes":
                    file.Sha256 = ReadSha256(ref reader) ?? file.Sha256;
                    break;
                case "requires-python":
                    file.RequiresPython = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    break;
                case "core-metadata" or "dist-info-metadata" or "data-dist-info-metadata":
                    var index = Array.IndexOf(MetadataKeys, property);
                    metadata[index] = reader.TokenType switch
                    {
                        JsonTokenType.True => (true, true, null),
                        JsonTokenType.StartObject => (true, true, ReadSha256(ref reader)),
                        _ => (true, false, null),
                    };
                    break;
                case "yanked":
                    (file.Yanked, file.YankedReason) = reader.TokenType switch
                    {
                        JsonTokenType.True => (true, (string?)null),
                        JsonTokenType.String => (true, reader.GetString()),
                        _ => (false, null),
                    };
                    break;
                case "size":
                    file.Size = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
                    break;
                case "upload-time":
                    file.UploadTime = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    break;
            }
            SkipValue(ref reader); // the rest of an object or array value; nothing on a scalar
        }
        foreach (var (present, value, sha256) in metadata)
        {
            if (present)
            {
                (file.CoreMetadata, file.CoreMetadataSha256) = (value, sha256);
                break;
            }
        }
        return file;
    }

    private static string RequiredString(ref Utf8JsonReader reader, string property) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"'{property}' is not a string");

    /// <summary>The lower-case <c>sha256</c> member of a hashes object (the reader is left on its end), else null.</summary>
    private static string? ReadSha256(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        string? sha256 = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "sha256" && reader.TokenType == JsonTokenType.String && sha256 is null)
            {
                sha256 = reader.GetString()!.ToLowerInvariant();
            }
            SkipValue(ref reader);
        }
        return sha256;
    }

    /// <summary>
    /// Skips a value. The serializer buffers a custom converter's whole value before calling it, so the data is all
    /// there; <see cref="Utf8JsonReader.TrySkip"/> is used because <see cref="Utf8JsonReader.Skip"/> refuses any reader
    /// of a stream (one not on its final block).
    /// </summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip())
        {
            throw new JsonException("a file entry ended early");
        }
    }

    public override void Write(Utf8JsonWriter writer, SimpleJsonFile value, JsonSerializerOptions options) =>
        throw new NotSupportedException("upstream pages are only read");
}

[JsonSerializable(typeof(SimpleJsonPage))]
internal sealed partial class SimpleJsonPageContext : JsonSerializerContext;
