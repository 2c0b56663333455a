using Microsoft.Extensions.Logging.Abstractions;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Policy;
using static SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure.AptClosureSourceTests;

namespace SafeHaven.Gateway.Tests.Policy;

public sealed class ModelApprovalsTests
{
    [Fact]
    public async Task Does_not_report_the_clients_base_system_as_unapproved()
    {
        var universe = new AptUniverse(
            [
                Pkg("dpkg", "1.21", "Essential: yes", "Pre-Depends: tar, libc6"),
                Pkg("tar", "1.34"),
                Pkg("libc6", "2.36"),
                Pkg("app", "1", "Depends: libapp1, libc6"),
                Pkg("libapp1", "1"),
            ],
            "amd64");
        var allowlist = Allowlist.Parse(["app"], n => n);
        var snapshot = new PolicySnapshot(1, new TierPolicy(4, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty),
            new Dictionary<string, Allowlist> { ["apt"] = allowlist });
        var closure = await AllowlistClosure.BuildAsync("apt", allowlist, new AptClosureSource(_ => ValueTask.FromResult(universe)),
            DateTimeOffset.UtcNow, CancellationToken.None);

        var unapproved = new ModelApprovals(NullLogger<ModelApprovals>.Instance).Unapproved("apt", snapshot, closure, []);

        Assert.Equal(["app", "dpkg", "libapp1", "libc6", "tar"], closure.Packages.Order(StringComparer.Ordinal));
        var only = Assert.Single(unapproved);
        Assert.Equal("libapp1", only.Package);
        Assert.Equal(["app"], only.RequiredBy);
    }
}
