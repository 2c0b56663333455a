using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Configuration;
using SafeHaven.Storage.S3;

namespace SafeHaven.Airlock.Tests.Storage;

/// <summary>
/// The upgrade as an operator meets it: a data directory of an earlier version (its <c>airlock.db</c> beside nothing
/// else), and the airlock composed as the appliance composes it on the default SQLite configuration.
/// </summary>
public sealed class LegacyAdoptionCompositionTests
{
    [Fact]
    public async Task The_appliance_composition_adopts_DATA_airlock_db_into_DATA_safehaven_db()
    {
        using var data = new TempDirectory();
        var (legacy, _) = AirlockStoresTests.WriteLegacyFile(data.Path);
        var options = new SafeHavenOptions { DataDirectory = data.Path };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSafeHavenBlobStore(options);
        services.AddSafeHavenAirlock(options, new ConfigurationBuilder().Build());

        await using (var provider = services.BuildServiceProvider())
        {
            Assert.Equal("tool.bin", Assert.Single((await provider.GetRequiredService<IVolumeStore>().GetManifestAsync("vol1", TestContext.Token))!.Files).Path);
            Assert.Equal(SubmissionState.Draft, (await provider.GetRequiredService<SubmissionStore>().GetAsync("sub1", TestContext.Token))!.State);
        }

        Assert.False(File.Exists(legacy));
        Assert.True(File.Exists(Path.Combine(data.Path, "airlock.db.migrated")));
        Assert.True(File.Exists(Path.Combine(data.Path, "safehaven.db")));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
