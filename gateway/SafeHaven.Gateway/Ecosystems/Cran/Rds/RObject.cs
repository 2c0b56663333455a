using System.Text;

namespace SafeHaven.Gateway.Ecosystems.Cran.Rds;

/// <summary>R's internal type codes (<c>SEXPTYPE</c>) for the objects an <c>.rds</c> file can hold.</summary>
public enum RType
{
    Nil = 0,
    Symbol = 1,
    PairList = 2,
    Closure = 3,
    Environment = 4,
    Promise = 5,
    Language = 6,
    Special = 7,
    Builtin = 8,
    Char = 9,
    Logical = 10,
    Integer = 13,
    Real = 14,
    Complex = 15,
    String = 16,
    Dot = 17,
    List = 19,
    Expression = 20,
    ByteCode = 21,
    ExternalPointer = 22,
    WeakReference = 23,
    Raw = 24,
    S4 = 25,
}

/// <summary>One named attribute of an R object (<c>names</c>, <c>dim</c>, <c>class</c>, ...).</summary>
public sealed record RAttribute(string Name, RObject Value);

/// <summary>
/// An R object as read from its serialisation: a vector (with its attributes), a pairlist, a symbol, or an opaque
/// object the CRAN files never hold (environments, closures), kept only so a reference to it can be resolved.
/// </summary>
public abstract class RObject
{
    private IReadOnlyList<RAttribute> _attributes = [];

    public abstract RType Type { get; }

    public IReadOnlyList<RAttribute> Attributes
    {
        get => _attributes;
        internal set => _attributes = value;
    }

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public RObject? Attribute(string name)
    {
        foreach (var attribute in _attributes)
        {
            if (attribute.Name == name)
            {
                return attribute.Value;
            }
        }
        return null;
    }

    /// <summary>The <c>names</c> attribute, or null.</summary>
    public IReadOnlyList<string?>? Names => (Attribute("names") as RStrings)?.Values;

    /// <summary>The <c>class</c> attribute, or empty.</summary>
    public IReadOnlyList<string?> Class => (Attribute("class") as RStrings)?.Values ?? [];

    public bool Inherits(string cls) => Class.Contains(cls);

    /// <summary>The <c>dim</c> attribute, or null.</summary>
    public IReadOnlyList<int>? Dim => Attribute("dim") switch
    {
        RIntegers ints => ints.Values,
        RDoubles doubles when doubles.Values.All(d => d >= 0 && d <= int.MaxValue && d == Math.Floor(d)) => doubles.Values.Select(d => (int)d).ToArray(),
        _ => null,
    };

    /// <summary>
    /// A data frame's <c>row.names</c> as strings: character row names as they are, and the compact form R
    /// writes for automatic ones (<c>c(NA, -n)</c> or <c>c(NA, n)</c>) expanded to <c>"1"</c> .. <c>"n"</c>.
    /// </summary>
    public IReadOnlyList<string?>? RowNames
    {
        get
        {
            switch (Attribute("row.names"))
            {
                case RStrings strings:
                    return strings.Values;
                case RIntegers { Values.Length: 2 } compact when compact.Values[0] == RIntegers.NA:
                    return Enumerable.Range(1, Math.Abs(compact.Values[1])).Select(i => (string?)i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                case RIntegers ints:
                    return ints.Values.Select(i => i == RIntegers.NA ? null : (string?)i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                default:
                    return null;
            }
        }
    }
}

/// <summary><c>NULL</c>.</summary>
public sealed class RNull : RObject
{
    public static readonly RNull Instance = new();

    private RNull()
    {
    }

    public override RType Type => RType.Nil;
}

/// <summary>
/// A character vector (<c>STRSXP</c>); <c>NA_character_</c> is null. As read from a file, the strings are kept as
/// the bytes R wrote and decoded only when asked for (<see cref="this[int]"/>), so a large matrix of which a few
/// columns are wanted (CRAN's packages.rds) costs its bytes, not a .NET string per cell.
/// </summary>
public sealed class RStrings : RObject
{
    private readonly byte[]? _bytes;
    private readonly int[]? _starts;
    private readonly int[]? _lengths;
    private readonly byte[]? _encodingIndexes;
    private readonly Encoding[]? _encodings;
    private string?[]? _values;

    public RStrings(string?[] values)
    {
        _values = values;
        Count = values.Length;
    }

    /// <summary>
    /// Packed form: element i is <paramref name="bytes"/>[starts[i] .. +lengths[i]] in encodings[encodingIndexes[i]],
    /// or NA when lengths[i] is -1.
    /// </summary>
    internal RStrings(byte[] bytes, int[] starts, int[] lengths, byte[] encodingIndexes, Encoding[] encodings)
    {
        _bytes = bytes;
        _starts = starts;
        _lengths = lengths;
        _encodingIndexes = encodingIndexes;
        _encodings = encodings;
        Count = starts.Length;
    }

    public override RType Type => RType.String;

    public int Count { get; }

    /// <summary>One element, decoded on demand.</summary>
    public string? this[int index]
    {
        get
        {
            if (_values is not null)
            {
                return _values[index];
            }
            var length = _lengths![index];
            return length < 0 ? null : _encodings![_encodingIndexes![index]].GetString(_bytes!, _starts![index], length);
        }
    }

    /// <summary>Every element, decoded (once) on first use.</summary>
    public string?[] Values => _values ??= Enumerable.Range(0, Count).Select(i => this[i]).ToArray();
}

/// <summary>An integer vector (<c>INTSXP</c>); <c>NA_integer_</c> is <see cref="NA"/>.</summary>
public sealed class RIntegers(int[] values) : RObject
{
    public const int NA = int.MinValue;
    public override RType Type => RType.Integer;
    public int[] Values { get; } = values;
}

/// <summary>A logical vector (<c>LGLSXP</c>): 0 false, 1 true, <see cref="RIntegers.NA"/> NA.</summary>
public sealed class RLogicals(int[] values) : RObject
{
    public override RType Type => RType.Logical;
    public int[] Values { get; } = values;
}

/// <summary>A double vector (<c>REALSXP</c>); <c>POSIXct</c> date-times are seconds since 1970 in one.</summary>
public sealed class RDoubles(double[] values) : RObject
{
    public override RType Type => RType.Real;
    public double[] Values { get; } = values;
}

/// <summary>A complex vector (<c>CPLXSXP</c>), as (real, imaginary) pairs.</summary>
public sealed class RComplexes(double[] values) : RObject
{
    public override RType Type => RType.Complex;
    public double[] RealImaginaryPairs { get; } = values;
}

/// <summary>A raw vector (<c>RAWSXP</c>).</summary>
public sealed class RRaw(byte[] values) : RObject
{
    public override RType Type => RType.Raw;
    public byte[] Values { get; } = values;
}

/// <summary>A generic vector (<c>VECSXP</c>, a list; data frames are lists) or an expression vector.</summary>
public sealed class RList(RType type, RObject[] values) : RObject
{
    public override RType Type { get; } = type;
    public RObject[] Values { get; } = values;

    /// <summary>The element named <paramref name="name"/>, or null.</summary>
    public RObject? this[string name]
    {
        get
        {
            var names = Names;
            if (names is null)
            {
                return null;
            }
            for (var i = 0; i < names.Count && i < Values.Length; i++)
            {
                if (names[i] == name)
                {
                    return Values[i];
                }
            }
            return null;
        }
    }
}

/// <summary>A symbol (<c>SYMSXP</c>).</summary>
public sealed class RSymbol(string name) : RObject
{
    public override RType Type => RType.Symbol;
    public string Name { get; } = name;
}

/// <summary>A pairlist-like object (<c>LISTSXP</c>, <c>LANGSXP</c>, closures, promises): tagged cells in order.</summary>
public sealed class RPairList(RType type, IReadOnlyList<(string? Tag, RObject Value)> cells) : RObject
{
    public override RType Type { get; } = type;
    public IReadOnlyList<(string? Tag, RObject Value)> Cells { get; } = cells;
}

/// <summary>
/// An object the reader accepts but does not interpret (an environment, an external pointer, a builtin, or one of
/// R's special values such as the global environment): kept so references to it resolve.
/// </summary>
public sealed class ROpaque(RType type, string description) : RObject
{
    public override RType Type { get; } = type;
    public string Description { get; } = description;
}
