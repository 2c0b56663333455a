using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace SafeHaven.Gateway.Ecosystems.Conda.Repodata;

/// <summary>
/// Reads an upstream <c>repodata.json</c> as a stream of JSON tokens (<see cref="Utf8JsonReader"/> over a small
/// buffer refilled from the file), never as one document: memory holds the buffer and one <see cref="CondaRecord"/>
/// per record, whatever the file's size. Each record's place in the file is kept, so its other fields are read back
/// one record at a time (<see cref="ReadRecord"/>) when the index is published or the closure needs its <c>depends</c>.
/// </summary>
public static class RepodataReader
{
    private const int InitialBuffer = 64 * 1024;

    private enum Section { None, Info, Packages, PackagesConda, Removed, Version, Other }

    /// <summary>Reads the file; throws <see cref="InvalidDataException"/> when it is not a repodata JSON object.</summary>
    public static CondaRepodata Read(Stream stream, CancellationToken cancellationToken)
    {
        var parser = new Parser();
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        try
        {
            var filled = 0;
            long start = 0;
            var final = false;
            var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 64 });
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (filled == buffer.Length)
                {
                    // One token longer than the buffer: grow it (bounded by the file, itself bounded by MaximumIndexBytes).
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, filled);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                final = read == 0;
                filled += read;
                var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), final, state);
                while (reader.Read())
                {
                    parser.Token(ref reader, start);
                }
                if (final)
                {
                    break;
                }
                var consumed = (int)reader.BytesConsumed;
                state = reader.CurrentState;
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
                start += consumed;
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"repodata.json is not valid JSON: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (!parser.SawRoot)
        {
            throw new InvalidDataException("repodata.json is not a JSON object");
        }
        return new CondaRepodata(parser.Subdir, parser.BaseUrl, parser.RepodataVersion, parser.Records, parser.Removed, parser.Unreadable);
    }

    /// <summary>One record's JSON, read back from the upstream file by its place.</summary>
    public static JsonDocument ReadRecord(SafeFileHandle file, CondaRecord record)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(record.Length);
        try
        {
            var span = buffer.AsSpan(0, record.Length);
            var total = 0;
            while (total < record.Length)
            {
                var read = RandomAccess.Read(file, span[total..], record.Offset + total);
                if (read == 0)
                {
                    throw new InvalidDataException($"the upstream index kept on disk ends before record {record.Filename}");
                }
                total += read;
            }
            // JsonDocument.Parse copies what it needs out of a span it does not own.
            var reader = new Utf8JsonReader(span);
            return JsonDocument.ParseValue(ref reader);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A record's <c>depends</c> and <c>constrains</c> (strings only; anything else in them is ignored).</summary>
    public static CondaRecordDependencies ReadDependencies(SafeFileHandle file, CondaRecord record)
    {
        using var document = ReadRecord(file, record);
        return new CondaRecordDependencies(Strings(document.RootElement, "depends"), Strings(document.RootElement, "constrains"));
    }

    private static IReadOnlyList<string> Strings(JsonElement record, string property) =>
        record.ValueKind == JsonValueKind.Object && record.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];

    /// <summary>The token state machine: which top-level section, which record, which field of it.</summary>
    private sealed class Parser
    {
        private readonly Dictionary<string, string> _pool = new(StringComparer.Ordinal);
        private Section _section;
        private string? _infoField;
        private string? _filename;
        private string? _field;
        private long _recordStart = -1;
        private string? _name, _version, _build, _sha256;
        private int _buildNumber;
        private long? _size, _timestamp;

        public bool SawRoot { get; private set; }
        public string? Subdir { get; private set; }
        public string? BaseUrl { get; private set; }
        public long? RepodataVersion { get; private set; }
        public List<CondaRecord> Records { get; } = [];
        public List<string> Removed { get; } = [];
        public int Unreadable { get; private set; }

        private string Pooled(string value)
        {
            if (_pool.TryGetValue(value, out var pooled))
            {
                return pooled;
            }
            _pool[value] = value;
            return value;
        }

        public void Token(ref Utf8JsonReader reader, long start)
        {
            var depth = reader.CurrentDepth;
            var type = reader.TokenType;
            if (depth == 0)
            {
                if (type == JsonTokenType.StartObject)
                {
                    SawRoot = true;
                }
                else if (type != JsonTokenType.EndObject)
                {
                    throw new InvalidDataException("repodata.json is not a JSON object");
                }
                return;
            }
            if (depth == 1)
            {
                if (type == JsonTokenType.PropertyName)
                {
                    _section = reader.ValueTextEquals("info"u8) ? Section.Info
                        : reader.ValueTextEquals("packages"u8) ? Section.Packages
                        : reader.ValueTextEquals("packages.conda"u8) ? Section.PackagesConda
                        : reader.ValueTextEquals("removed"u8) ? Section.Removed
                        : reader.ValueTextEquals("repodata_version"u8) ? Section.Version
                        : Section.Other;
                }
                else if (_section == Section.Version && type == JsonTokenType.Number && reader.TryGetInt64(out var version))
                {
                    RepodataVersion = version;
                }
                return;
            }
            switch (_section)
            {
                case Section.Info when depth == 2:
                    if (type == JsonTokenType.PropertyName)
                    {
                        _infoField = reader.GetString();
                    }
                    else if (type == JsonTokenType.String)
                    {
                        if (_infoField == "subdir")
                        {
                            Subdir = reader.GetString();
                        }
                        else if (_infoField == "base_url")
                        {
                            BaseUrl = reader.GetString();
                        }
                    }
                    return;
                case Section.Removed when depth == 2 && type == JsonTokenType.String:
                    Removed.Add(reader.GetString()!);
                    return;
                case Section.Packages or Section.PackagesConda:
                    Package(ref reader, start, depth, type);
                    return;
                default:
                    return;
            }
        }

        private void Package(ref Utf8JsonReader reader, long start, int depth, JsonTokenType type)
        {
            if (depth == 2)
            {
                switch (type)
                {
                    case JsonTokenType.PropertyName:
                        _filename = reader.GetString();
                        return;
                    case JsonTokenType.StartObject:
                        _recordStart = start + reader.TokenStartIndex;
                        _name = _version = _build = _sha256 = null;
                        _buildNumber = 0;
                        _size = _timestamp = null;
                        _field = null;
                        return;
                    case JsonTokenType.EndObject when _recordStart >= 0:
                        var end = start + reader.BytesConsumed;
                        Emit(end);
                        _recordStart = -1;
                        return;
                    case JsonTokenType.EndObject or JsonTokenType.StartArray or JsonTokenType.EndArray:
                        return;
                    default:
                        Unreadable++; // a record that is not an object
                        return;
                }
            }
            if (depth != 3 || _recordStart < 0)
            {
                return;
            }
            if (type == JsonTokenType.PropertyName)
            {
                _field = reader.ValueTextEquals("name"u8) ? "name"
                    : reader.ValueTextEquals("version"u8) ? "version"
                    : reader.ValueTextEquals("build"u8) ? "build"
                    : reader.ValueTextEquals("build_number"u8) ? "build_number"
                    : reader.ValueTextEquals("sha256"u8) ? "sha256"
                    : reader.ValueTextEquals("size"u8) ? "size"
                    : reader.ValueTextEquals("timestamp"u8) ? "timestamp"
                    : null;
                return;
            }
            switch (_field)
            {
                case "name" when type == JsonTokenType.String:
                    _name = Pooled(reader.GetString()!);
                    break;
                case "version" when type == JsonTokenType.String:
                    _version = Pooled(reader.GetString()!);
                    break;
                case "build" when type == JsonTokenType.String:
                    _build = reader.GetString();
                    break;
                case "build_number" when type == JsonTokenType.Number && reader.TryGetInt32(out var number):
                    _buildNumber = number;
                    break;
                case "sha256" when type == JsonTokenType.String:
                    var sha256 = reader.GetString()!;
                    _sha256 = sha256.Length == 64 && sha256.All(char.IsAsciiHexDigit) ? sha256.ToLowerInvariant() : null;
                    break;
                case "size" when type == JsonTokenType.Number && reader.TryGetInt64(out var size) && size >= 0:
                    _size = size;
                    break;
                case "timestamp" when type == JsonTokenType.Number:
                    _timestamp = reader.TryGetInt64(out var timestamp) ? timestamp
                        : reader.TryGetDouble(out var fractional) && fractional is > 0 and < long.MaxValue ? (long)fractional : null;
                    break;
            }
            _field = null;
        }

        private void Emit(long end)
        {
            if (_filename is null || _name is null || _version is null || _build is null || end - _recordStart > int.MaxValue)
            {
                Unreadable++;
                return;
            }
            Records.Add(new CondaRecord
            {
                Filename = _filename,
                Name = _name,
                Version = _version,
                Build = _build,
                BuildNumber = _buildNumber,
                Sha256 = _sha256,
                Size = _size,
                Timestamp = _timestamp,
                IsConda = _section == Section.PackagesConda,
                Offset = _recordStart,
                Length = (int)(end - _recordStart),
            });
        }
    }
}
