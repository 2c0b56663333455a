using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Snapshots;

public sealed class VariantNegotiationTests
{
    private static readonly SnapshotEntry Json = new("simple/", "application/vnd.pypi.simple.v1+json", new string('a', 64), 1, SnapshotEntryKind.Document);
    private static readonly SnapshotEntry Html = new("simple/", "text/html; charset=utf-8", new string('b', 64), 1, SnapshotEntryKind.Document);

    [Theory]
    [InlineData("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", "json")] // pip
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html")] // a browser
    [InlineData("*/*", "html")] // the simple API's default
    [InlineData(null, "html")]
    [InlineData("application/*", "json")]
    [InlineData("*/*, text/html;q=0", "json")]
    [InlineData("text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.6", "json")]
    [InlineData("application/vnd.pypi.simple.v1+html", null)]
    [InlineData("text/html;q=0, application/vnd.pypi.simple.v1+json;q=0", null)]
    public void The_variant_with_the_best_q_value_is_chosen(string? accept, string? expected)
    {
        var chosen = VariantNegotiation.Choose([Json, Html], accept);
        Assert.Equal(expected, chosen is null ? null : chosen == Json ? "json" : "html");
    }
}
