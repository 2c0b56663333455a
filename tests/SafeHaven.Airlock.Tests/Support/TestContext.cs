namespace SafeHaven.Airlock.Tests.Support;

/// <summary>The token tests pass to the code under test (xunit 2 has no per-test token).</summary>
internal static class TestContext
{
    public static CancellationToken Token => CancellationToken.None;
}
