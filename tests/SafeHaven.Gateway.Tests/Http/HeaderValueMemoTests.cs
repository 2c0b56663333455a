using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Tests.Http;

public sealed class HeaderValueMemoTests
{
    [Fact]
    public void A_value_seen_before_is_not_parsed_again()
    {
        var parses = 0;
        var memo = new HeaderValueMemo<int>(v => { parses++; return v.Length; });
        Assert.Equal(5, memo.Get("gzip,"));
        Assert.Equal(5, memo.Get("gzip,"));
        Assert.Equal(1, parses);
        Assert.Equal(1, memo.Count);
    }

    [Fact]
    public void It_stops_remembering_when_full_or_for_long_values_but_still_answers()
    {
        var parses = 0;
        var memo = new HeaderValueMemo<int>(v => { parses++; return v.Length; }, capacity: 2, maxLength: 8);
        memo.Get("a");
        memo.Get("bb");
        Assert.Equal(3, memo.Get("ccc"));
        Assert.Equal(3, memo.Get("ccc"));
        Assert.Equal(2, memo.Count);
        Assert.Equal(4, parses);
        var fresh = new HeaderValueMemo<int>(v => v.Length, maxLength: 8);
        Assert.Equal(9, fresh.Get("123456789"));
        Assert.Equal(0, fresh.Count);
    }
}
