using System.Collections.Concurrent;

namespace SafeHaven.Gateway.Http;

/// <summary>
/// Remembers what a pure parse of a request header value gave, for the few distinct values real clients send (pip, uv,
/// R and NuGet each send the same Accept and Accept-Encoding headers every time), so the hot path skips the parse.
/// Bounded: once it holds <c>capacity</c> values, or for a value longer than <c>maxLength</c>, the value is parsed
/// every time instead of remembered, so a client sending ever-new headers cannot grow it.
/// </summary>
public sealed class HeaderValueMemo<T>(Func<string, T> parse, int capacity = 256, int maxLength = 512)
{
    private readonly ConcurrentDictionary<string, T> _known = new(StringComparer.Ordinal);

    public T Get(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_known.TryGetValue(value, out var result))
        {
            return result;
        }
        result = parse(value);
        if (value.Length <= maxLength && _known.Count < capacity)
        {
            _known.TryAdd(value, result);
        }
        return result;
    }

    /// <summary>How many values are remembered.</summary>
    public int Count => _known.Count;
}
