using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using SafeHaven.Core.IO;

namespace SafeHaven.Gateway.Ecosystems.Cran.Rds;

/// <summary>Thrown when an <c>.rds</c> stream is not R's serialisation, is truncated, or exceeds the reader's limits.</summary>
public sealed class RdsFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Bounds on what one <c>.rds</c> file may make the reader do.</summary>
public sealed record RdsLimits
{
    public static readonly RdsLimits Default = new();

    /// <summary>Most bytes of serialised data read after decompression (a gzip bomb stops here).</summary>
    public long MaximumBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Deepest nesting of objects (lists in lists, attributes of attributes).</summary>
    public int MaximumDepth { get; init; } = 128;

    /// <summary>Longest single string (CHARSXP), in bytes.</summary>
    public int MaximumStringBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most entries of the reference table (symbols, environments).</summary>
    public int MaximumReferences { get; init; } = 1_000_000;
}

/// <summary>
/// Reads R's serialisation (<c>saveRDS</c>, <c>serialize</c>) in the subset CRAN's database files use: gzip or
/// uncompressed, XDR binary format (<c>X\n</c>) versions 2 and 3; vectors (character, integer, double, logical,
/// complex, raw, list), pairlists and their attributes, symbols and the reference table, and the ALTREP forms R
/// writes for compact sequences and wrappers. Bounded: every length is checked against what may still be read
/// before anything is allocated for it, arrays grow only as their elements actually arrive, nesting is limited.
/// bzip2 and xz (<c>saveRDS(compress = "bzip2" | "xz")</c>) are refused with a clear error.
/// </summary>
public sealed class RdsReader
{
    private const int RefSxp = 255;
    private const int NilValueSxp = 254;
    private const int GlobalEnvSxp = 253;
    private const int UnboundValueSxp = 252;
    private const int MissingArgSxp = 251;
    private const int BaseNamespaceSxp = 250;
    private const int NamespaceSxp = 249;
    private const int PackageSxp = 248;
    private const int PersistSxp = 247;
    private const int EmptyEnvSxp = 242;
    private const int BaseEnvSxp = 241;
    private const int AttrLangSxp = 240;
    private const int AttrListSxp = 239;
    private const int AltRepSxp = 238;

    private const int IsObjectBit = 1 << 8;
    private const int HasAttributesBit = 1 << 9;
    private const int HasTagBit = 1 << 10;

    // CHARSXP encoding flags in the "levels" part of the flags.
    private const int BytesMask = 1 << 1;
    private const int Latin1Mask = 1 << 2;
    private const int Utf8Mask = 1 << 3;
    private const int AsciiMask = 1 << 6;

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: false);

    private readonly Input _input;
    private readonly RdsLimits _limits;
    private readonly CancellationToken _cancellationToken;
    private readonly List<RObject> _references = [];
    private Encoding _nativeEncoding = StrictUtf8;
    private int _items;

    private RdsReader(Stream stream, RdsLimits limits, CancellationToken cancellationToken)
    {
        _input = new Input(stream, limits.MaximumBytes);
        _limits = limits;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The format version of the file read (2 or 3).</summary>
    public int FormatVersion { get; private set; }

    /// <summary>Reads one object from <paramref name="content"/> (compressed or not).</summary>
    public static RObject Read(byte[] content, RdsLimits? limits = null, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(content, writable: false);
        return Read(stream, limits, cancellationToken);
    }

    /// <summary>Reads one object from <paramref name="stream"/> (compressed or not); the stream is left open.</summary>
    public static RObject Read(Stream stream, RdsLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var magic = new byte[6];
        var got = 0;
        int read;
        while (got < magic.Length && (read = stream.Read(magic, got, magic.Length - got)) > 0)
        {
            got += read;
        }
        var head = magic.AsSpan(0, got);
        Stream prefixed = new PrefixedStream(magic[..got], stream);
        Stream data;
        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            data = new GZipStream(prefixed, CompressionMode.Decompress, leaveOpen: true);
        }
        else if (head.Length >= 3 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h')
        {
            throw new RdsFormatException("this .rds file is bzip2-compressed (saveRDS(compress = \"bzip2\")); only gzip-compressed and uncompressed files are read");
        }
        else if (head.Length >= 6 && head.SequenceEqual(new byte[] { 0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0 }))
        {
            throw new RdsFormatException("this .rds file is xz-compressed (saveRDS(compress = \"xz\")); only gzip-compressed and uncompressed files are read");
        }
        else if (head.Length >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        {
            throw new RdsFormatException("this .rds file is zstd-compressed; only gzip-compressed and uncompressed files are read");
        }
        else
        {
            data = prefixed;
        }
        try
        {
            var reader = new RdsReader(data, limits ?? RdsLimits.Default, cancellationToken);
            return reader.ReadFile();
        }
        catch (InvalidDataException e)
        {
            throw new RdsFormatException($"the .rds file's gzip stream is corrupt: {e.Message}", e);
        }
        catch (OverflowException e)
        {
            throw new RdsFormatException($"the .rds file holds a value out of range: {e.Message}", e);
        }
        finally
        {
            if (!ReferenceEquals(data, prefixed))
            {
                data.Dispose();
            }
        }
    }

    private RObject ReadFile()
    {
        var format = _input.ReadBytes(2, "format header");
        if (format[0] == (byte)'R' && format[1] == (byte)'D')
        {
            throw new RdsFormatException("this is an R workspace (save()), not a single object (saveRDS())");
        }
        if (format[1] != (byte)'\n' || format[0] is not (byte)'X')
        {
            throw new RdsFormatException(format[0] switch
            {
                (byte)'A' => "this .rds file is in R's ASCII format (saveRDS(ascii = TRUE)); only the XDR binary format is read",
                (byte)'B' => "this .rds file is in R's native binary format; only the XDR binary format is read",
                _ => $"not an R serialisation: the file starts with bytes {Convert.ToHexString(format)}, not 'X\\n'",
            });
        }
        FormatVersion = _input.ReadInt();
        _input.ReadInt(); // the R version that wrote it
        _input.ReadInt(); // the oldest R version that can read it
        switch (FormatVersion)
        {
            case 2:
                break;
            case 3:
                var length = _input.ReadInt();
                if (length is < 0 or > 64)
                {
                    throw new RdsFormatException($"the native encoding name is {length} bytes long");
                }
                var name = Encoding.ASCII.GetString(_input.ReadBytes(length, "native encoding"));
                _nativeEncoding = name.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant() switch
                {
                    "UTF8" => StrictUtf8,
                    "LATIN1" or "ISO88591" or "CP1252" or "WINDOWS1252" => Encoding.Latin1,
                    _ => StrictUtf8,
                };
                break;
            default:
                throw new RdsFormatException($"serialisation format version {FormatVersion} is not supported (2 and 3 are)");
        }
        var result = ReadItem(_input.ReadInt(), 0);
        return result is RChar ? throw new RdsFormatException("the file holds a bare CHARSXP, not an R object") : result;
    }

    private RObject ReadItem(int flags, int depth)
    {
        if (depth > _limits.MaximumDepth)
        {
            throw new RdsFormatException($"objects are nested more than {_limits.MaximumDepth} deep");
        }
        if ((++_items & 0xfff) == 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
        }
        var type = flags & 0xff;
        var levels = flags >> 12;
        var hasAttributes = (flags & HasAttributesBit) != 0;
        var hasTag = (flags & HasTagBit) != 0;
        switch (type)
        {
            case NilValueSxp:
                return RNull.Instance;
            case EmptyEnvSxp:
                return new ROpaque(RType.Environment, "emptyenv()");
            case BaseEnvSxp:
                return new ROpaque(RType.Environment, "baseenv()");
            case GlobalEnvSxp:
                return new ROpaque(RType.Environment, "globalenv()");
            case UnboundValueSxp:
                return new ROpaque(RType.Symbol, "unbound value");
            case MissingArgSxp:
                return new ROpaque(RType.Symbol, "missing argument");
            case BaseNamespaceSxp:
                return new ROpaque(RType.Environment, "base namespace");
            case RefSxp:
            {
                var index = flags >> 8;
                if (index == 0)
                {
                    index = _input.ReadInt();
                }
                if (index < 1 || index > _references.Count)
                {
                    throw new RdsFormatException($"reference {index} points outside the reference table ({_references.Count} entries)");
                }
                return _references[index - 1];
            }
            case PersistSxp:
            case NamespaceSxp:
            case PackageSxp:
            {
                var names = ReadStringVector(depth);
                var kind = type == PersistSxp ? "persistent reference" : type == NamespaceSxp ? "namespace" : "package environment";
                return AddReference(new ROpaque(RType.Environment, $"{kind} {string.Join(", ", names)}"));
            }
            case (int)RType.Symbol:
            {
                var name = ReadItem(_input.ReadInt(), depth + 1) as RChar
                    ?? throw new RdsFormatException("a symbol's name is not a string");
                return AddReference(new RSymbol(name.Value ?? "NA"));
            }
            case (int)RType.Environment:
            {
                _input.ReadInt(); // locked
                var environment = AddReference(new ROpaque(RType.Environment, "environment"));
                for (var i = 0; i < 4; i++) // enclosure, frame, hash table, attributes
                {
                    ReadItem(_input.ReadInt(), depth + 1);
                }
                return environment;
            }
            case (int)RType.PairList:
            case (int)RType.Language:
            case (int)RType.Closure:
            case (int)RType.Promise:
            case (int)RType.Dot:
            case AttrLangSxp:
            case AttrListSxp:
                return ReadPairList(flags, depth);
            case (int)RType.ExternalPointer:
            {
                var pointer = AddReference(new ROpaque(RType.ExternalPointer, "external pointer"));
                ReadItem(_input.ReadInt(), depth + 1); // protected value
                ReadItem(_input.ReadInt(), depth + 1); // tag
                return WithAttributes(pointer, hasAttributes, depth);
            }
            case (int)RType.WeakReference:
                return WithAttributes(AddReference(new ROpaque(RType.WeakReference, "weak reference")), hasAttributes, depth);
            case (int)RType.Special:
            case (int)RType.Builtin:
            {
                var length = _input.ReadInt();
                if (length < 0 || length > 1024)
                {
                    throw new RdsFormatException($"a builtin's name is {length} bytes long");
                }
                var name = Encoding.ASCII.GetString(_input.ReadBytes(length, "builtin name"));
                return WithAttributes(new ROpaque((RType)type, name), hasAttributes, depth);
            }
            case (int)RType.Char:
            {
                var value = ReadCharValue(levels);
                if (hasAttributes)
                {
                    ReadItem(_input.ReadInt(), depth + 1); // older R wrote the CHARSXP cache link; R ignores it too
                }
                return value;
            }
            case (int)RType.Logical:
                return WithAttributes(new RLogicals(ReadInts()), hasAttributes, depth);
            case (int)RType.Integer:
                return WithAttributes(new RIntegers(ReadInts()), hasAttributes, depth);
            case (int)RType.Real:
                return WithAttributes(new RDoubles(ReadDoubles(ReadLength(8))), hasAttributes, depth);
            case (int)RType.Complex:
            {
                var length = ReadLength(16);
                return WithAttributes(new RComplexes(ReadDoubles(length * 2)), hasAttributes, depth);
            }
            case (int)RType.String:
                return WithAttributes(ReadStrings(), hasAttributes, depth);
            case (int)RType.List:
            case (int)RType.Expression:
            {
                var length = ReadLength(4);
                var values = new Grower<RObject>(length);
                for (long i = 0; i < length; i++)
                {
                    values.Add(ReadItem(_input.ReadInt(), depth + 1));
                }
                return WithAttributes(new RList((RType)type, values.ToArray()), hasAttributes, depth);
            }
            case (int)RType.Raw:
            {
                var length = ReadLength(1);
                var values = new Grower<byte>(length);
                for (long done = 0; done < length;)
                {
                    var chunk = (int)Math.Min(64 * 1024, length - done);
                    values.AddRange(_input.ReadBytes(chunk, "raw vector"));
                    done += chunk;
                }
                return WithAttributes(new RRaw(values.ToArray()), hasAttributes, depth);
            }
            case (int)RType.S4:
                return WithAttributes(new ROpaque(RType.S4, "S4 object"), hasAttributes, depth);
            case AltRepSxp:
                return ReadAltRep(depth);
            case (int)RType.ByteCode:
                throw new RdsFormatException("the file holds byte-compiled code, which this reader does not read");
            default:
                throw new RdsFormatException($"unknown or unsupported R object type {type} (flags 0x{flags:x8})");
        }
    }

    private RObject AddReference(RObject value)
    {
        if (_references.Count >= _limits.MaximumReferences)
        {
            throw new RdsFormatException($"the reference table exceeds {_limits.MaximumReferences} entries");
        }
        _references.Add(value);
        return value;
    }

    private RObject WithAttributes(RObject value, bool hasAttributes, int depth)
    {
        if (hasAttributes)
        {
            value.Attributes = ToAttributes(ReadItem(_input.ReadInt(), depth + 1));
        }
        return value;
    }

    private static IReadOnlyList<RAttribute> ToAttributes(RObject attributes) => attributes switch
    {
        RNull => [],
        RPairList { Type: RType.PairList } list => list.Cells
            .Select(c => new RAttribute(c.Tag ?? throw new RdsFormatException("an attribute has no name"), c.Value)).ToArray(),
        _ => throw new RdsFormatException($"attributes are a {attributes.Type}, not a pairlist"),
    };

    /// <summary>A pairlist and the cells after it, read as a loop rather than by recursion on each CDR.</summary>
    private RObject ReadPairList(int flags, int depth)
    {
        var type = (flags & 0xff) switch
        {
            AttrLangSxp => RType.Language,
            AttrListSxp => RType.PairList,
            var t => (RType)t,
        };
        var cells = new List<(string?, RObject)>();
        IReadOnlyList<RAttribute> attributes = [];
        var first = true;
        while (true)
        {
            var cellType = flags & 0xff;
            var hasAttributes = (flags & HasAttributesBit) != 0 || cellType is AttrLangSxp or AttrListSxp;
            var cellAttributes = hasAttributes ? ToAttributes(ReadItem(_input.ReadInt(), depth + 1)) : [];
            if (first)
            {
                attributes = cellAttributes;
                first = false;
            }
            string? tag = null;
            if ((flags & HasTagBit) != 0)
            {
                tag = ReadItem(_input.ReadInt(), depth + 1) switch
                {
                    RSymbol symbol => symbol.Name,
                    RNull => null,
                    ROpaque opaque => opaque.Description,
                    var other => throw new RdsFormatException($"a pairlist tag is a {other.Type}, not a symbol"),
                };
            }
            cells.Add((tag, ReadItem(_input.ReadInt(), depth + 1)));
            if ((++_items & 0xfff) == 0)
            {
                _cancellationToken.ThrowIfCancellationRequested();
            }
            var next = _input.ReadInt();
            var nextType = next & 0xff;
            if (nextType == NilValueSxp)
            {
                break;
            }
            if (nextType is (int)RType.PairList or (int)RType.Language or AttrListSxp or AttrLangSxp)
            {
                flags = next;
                continue;
            }
            // A dotted pair (the CDR is not a pairlist): kept as a last, untagged cell.
            cells.Add((null, ReadItem(next, depth + 1)));
            break;
        }
        return new RPairList(type, cells) { Attributes = attributes };
    }

    private RObject ReadAltRep(int depth)
    {
        var info = ReadItem(_input.ReadInt(), depth + 1);
        var state = ReadItem(_input.ReadInt(), depth + 1);
        var attributes = ReadItem(_input.ReadInt(), depth + 1);
        var className = info is RPairList { Cells.Count: >= 1 } cells && cells.Cells[0].Value is RSymbol symbol
            ? symbol.Name
            : throw new RdsFormatException("an ALTREP object has no class");
        RObject value = className switch
        {
            "compact_intseq" => CompactSequence(state, className, asIntegers: true),
            "compact_realseq" => CompactSequence(state, className, asIntegers: false),
            "deferred_string" => DeferredString(state),
            _ when className.StartsWith("wrap_", StringComparison.Ordinal) => state is RList { Values.Length: >= 1 } wrapped
                ? wrapped.Values[0]
                : throw new RdsFormatException($"ALTREP {className} has no wrapped value"),
            _ => throw new RdsFormatException($"ALTREP class '{className}' is not supported"),
        };
        if (attributes is not RNull)
        {
            value.Attributes = ToAttributes(attributes);
        }
        return value;
    }

    private RObject CompactSequence(RObject state, string className, bool asIntegers)
    {
        if (state is not RDoubles { Values.Length: 3 } parameters)
        {
            throw new RdsFormatException($"ALTREP {className} has no (length, start, step) state");
        }
        var (length, start, step) = (parameters.Values[0], parameters.Values[1], parameters.Values[2]);
        // An expanded sequence costs 4 or 8 bytes per element: bound it as if it had been written out.
        if (!(length >= 0) || length * (asIntegers ? 4 : 8) > _input.Remaining)
        {
            throw new RdsFormatException($"ALTREP {className} of length {length} exceeds the reader's limit");
        }
        _input.Charge((long)length * (asIntegers ? 4 : 8));
        var n = (int)length;
        return asIntegers
            ? new RIntegers(Enumerable.Range(0, n).Select(i => checked((int)(start + i * step))).ToArray())
            : new RDoubles(Enumerable.Range(0, n).Select(i => start + i * step).ToArray());
    }

    private static RObject DeferredString(RObject state)
    {
        var argument = state switch
        {
            RPairList { Cells.Count: >= 1 } pair => pair.Cells[0].Value,
            RStrings strings => strings,
            _ => throw new RdsFormatException("ALTREP deferred_string has no state"),
        };
        return argument switch
        {
            RStrings strings => strings,
            RIntegers ints => new RStrings(ints.Values.Select(i => i == RIntegers.NA ? null : i.ToString(CultureInfo.InvariantCulture)).ToArray()),
            RDoubles doubles => new RStrings(doubles.Values.Select(d => double.IsNaN(d) ? null : d.ToString("G15", CultureInfo.InvariantCulture)).ToArray()),
            _ => throw new RdsFormatException($"ALTREP deferred_string wraps a {argument.Type}"),
        };
    }

    /// <summary>A character vector, kept packed: the bytes of every element in one growing buffer.</summary>
    private RStrings ReadStrings()
    {
        var length = ReadLength(4);
        var starts = new Grower<int>(length);
        var lengths = new Grower<int>(length);
        var encodings = new Grower<byte>(length);
        var bytes = new byte[(int)Math.Min(length * 16, 64 * 1024)];
        var used = 0;
        for (long i = 0; i < length; i++)
        {
            if ((++_items & 0xfff) == 0)
            {
                _cancellationToken.ThrowIfCancellationRequested();
            }
            var flags = _input.ReadInt();
            if ((flags & 0xff) != (int)RType.Char)
            {
                throw new RdsFormatException($"an element of a character vector is of type {flags & 0xff}, not a string");
            }
            var size = ReadCharLength();
            starts.Add(used);
            lengths.Add(size);
            encodings.Add(EncodingIndexOf(flags >> 12));
            if (size > 0)
            {
                if (used + (long)size > bytes.Length)
                {
                    Array.Resize(ref bytes, (int)Math.Min(Math.Max(used + (long)size, bytes.Length * 2L), Array.MaxLength));
                }
                _input.ReadInto(bytes.AsSpan(used, size), "string");
                used += size;
            }
            if ((flags & HasAttributesBit) != 0)
            {
                ReadItem(_input.ReadInt(), 1);
            }
        }
        return new RStrings(bytes, starts.ToArray(), lengths.ToArray(), encodings.ToArray(), [StrictUtf8, Encoding.Latin1, _nativeEncoding]);
    }

    private List<string?> ReadStringVector(int depth)
    {
        if (_input.ReadInt() != 0)
        {
            throw new RdsFormatException("a persistent string vector does not start with 0");
        }
        var length = _input.ReadInt();
        if (length < 0 || (long)length * 4 > _input.Remaining)
        {
            throw new RdsFormatException($"a persistent string vector claims {length} elements");
        }
        var names = new List<string?>();
        for (var i = 0; i < length; i++)
        {
            names.Add((ReadItem(_input.ReadInt(), depth + 1) as RChar ?? throw new RdsFormatException("a persistent name is not a string")).Value);
        }
        return names;
    }

    private RChar ReadCharValue(int levels)
    {
        var length = ReadCharLength();
        return length == -1 ? RChar.NA : new RChar(EncodingOf(levels).GetString(_input.ReadBytes(length, "string")));
    }

    /// <summary>A CHARSXP's byte count (-1 for NA), checked against the limits before anything is read.</summary>
    private int ReadCharLength()
    {
        var length = _input.ReadInt();
        if (length == -1)
        {
            return -1;
        }
        if (length < 0 || length > _limits.MaximumStringBytes)
        {
            throw new RdsFormatException($"a string claims {length} bytes (limit {_limits.MaximumStringBytes})");
        }
        if (length > _input.Remaining)
        {
            throw new RdsFormatException($"a string claims {length} bytes, more than the {_input.Remaining} the reader may still read");
        }
        return length;
    }

    /// <summary>The index into <c>[UTF-8, Latin-1, native]</c> of a CHARSXP's encoding.</summary>
    private static byte EncodingIndexOf(int levels) =>
        (levels & Utf8Mask) != 0 ? (byte)0
        : (levels & (Latin1Mask | BytesMask)) != 0 ? (byte)1
        : (levels & AsciiMask) != 0 ? (byte)0
        : (byte)2;

    private Encoding EncodingOf(int levels) =>
        (levels & Utf8Mask) != 0 ? StrictUtf8
        : (levels & (Latin1Mask | BytesMask)) != 0 ? Encoding.Latin1
        : (levels & AsciiMask) != 0 ? StrictUtf8
        : _nativeEncoding;

    /// <summary>A vector length (long vectors included), checked against what may still be read at <paramref name="bytesPerElement"/> each.</summary>
    private long ReadLength(int bytesPerElement)
    {
        long length = _input.ReadInt();
        if (length == -1)
        {
            var upper = (uint)_input.ReadInt();
            var lower = (uint)_input.ReadInt();
            length = ((long)upper << 32) + lower;
        }
        if (length < 0)
        {
            throw new RdsFormatException($"a vector claims a negative length ({length})");
        }
        if (length > int.MaxValue / 2 || length * bytesPerElement > _input.Remaining)
        {
            throw new RdsFormatException($"a vector claims {length} elements, more than the {_input.Remaining} bytes the reader may still read can hold");
        }
        return length;
    }

    private int[] ReadInts()
    {
        var length = ReadLength(4);
        var values = new Grower<int>(length);
        for (long i = 0; i < length; i++)
        {
            values.Add(_input.ReadInt());
        }
        return values.ToArray();
    }

    private double[] ReadDoubles(long length)
    {
        var values = new Grower<double>(length);
        for (long i = 0; i < length; i++)
        {
            values.Add(_input.ReadDouble());
        }
        return values.ToArray();
    }

    /// <summary>A CHARSXP: only ever an element of a character vector or a symbol's name.</summary>
    private sealed class RChar(string? value) : RObject
    {
        public static readonly RChar NA = new(null);
        public override RType Type => RType.Char;
        public string? Value { get; } = value;
    }

    /// <summary>A list sized by what has arrived, not by what a length field claims.</summary>
    private sealed class Grower<T>(long expected)
    {
        private readonly List<T> _items = new((int)Math.Min(expected, 4096));

        public void Add(T item) => _items.Add(item);

        public void AddRange(IEnumerable<T> items) => _items.AddRange(items);

        public T[] ToArray() => _items.ToArray();
    }

    /// <summary>Big-endian reads from a stream through a buffer, counting every byte against the limit.</summary>
    private sealed class Input(Stream stream, long maximumBytes)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _position;
        private int _length;
        private long _consumed;

        public long Remaining => maximumBytes - _consumed;

        public void Charge(long bytes) => _consumed += bytes;

        public int ReadInt()
        {
            Ensure(4, "integer");
            var value = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_position, 4));
            _position += 4;
            return value;
        }

        public double ReadDouble()
        {
            Ensure(8, "double");
            var value = BinaryPrimitives.ReadDoubleBigEndian(_buffer.AsSpan(_position, 8));
            _position += 8;
            return value;
        }

        public byte[] ReadBytes(int count, string what)
        {
            var result = new byte[count];
            ReadInto(result, what);
            return result;
        }

        public void ReadInto(Span<byte> destination, string what)
        {
            var done = 0;
            while (done < destination.Length)
            {
                var chunk = Math.Min(destination.Length - done, _buffer.Length);
                Ensure(chunk, what);
                _buffer.AsSpan(_position, chunk).CopyTo(destination[done..]);
                _position += chunk;
                done += chunk;
            }
        }

        private void Ensure(int count, string what)
        {
            if (_consumed + count > maximumBytes)
            {
                throw new RdsFormatException($"the serialised data exceeds {maximumBytes} bytes");
            }
            if (_length - _position < count)
            {
                var left = _length - _position;
                _buffer.AsSpan(_position, left).CopyTo(_buffer);
                _length = left;
                _position = 0;
                while (_length < count)
                {
                    var read = stream.Read(_buffer, _length, _buffer.Length - _length);
                    if (read == 0)
                    {
                        throw new RdsFormatException($"the file is truncated: it ends in the middle of a {what} after {_consumed + _length} bytes");
                    }
                    _length += read;
                }
            }
            _consumed += count;
        }
    }

    /// <summary>The bytes already read to recognise the compression, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyWrapperStream(rest, leaveOpen: true)
    {
        private int _offset;

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }
            return Inner.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsMemory(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }
            return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }
}
