using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tests.Advisories;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Tests.Tiers;

/// <summary>A Debian security tracker export dropped into (or removed from) the advisories folder takes effect without a restart, like OSV files.</summary>
public sealed class TierPolicyProviderTrackerTests
{
    private sealed class FixedOptions(SafeHavenOptions value) : IOptionsMonitor<SafeHavenOptions>
    {
        public SafeHavenOptions CurrentValue => value;
        public SafeHavenOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<SafeHavenOptions, string?> listener) => null;
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return condition();
    }

    [Fact]
    public async Task A_tracker_export_added_to_the_folder_is_read_and_a_removed_one_forgotten()
    {
        using var folder = new AdvisoryFolder();
        var options = new SafeHavenOptions();
        options.Policy.AdvisoriesDirectory = folder.Path;
        using var provider = new TierPolicyProvider(new FixedOptions(options), NullLogger<TierPolicyProvider>.Instance);
        var fixedVersion = DebianVersion.Parse("3.0.13-1~deb12u1");
        Assert.Null(provider.Current.Policy.Advisories.TrackerFixFor("openssl", "bookworm", fixedVersion));

        folder.With("tracker.json", DebianTrackerFixtures.Export);

        Assert.True(await EventuallyAsync(() => provider.Current.Policy.Advisories.TrackerFixFor("openssl", "bookworm", fixedVersion) is not null));

        File.Delete(Path.Combine(folder.Path, "tracker.json"));

        Assert.True(await EventuallyAsync(() => provider.Current.Policy.Advisories.TrackerFixFor("openssl", "bookworm", fixedVersion) is null));
    }
}
