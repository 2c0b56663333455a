using Dapper;
using Microsoft.Data.Sqlite;
using SafeHaven.Core.Configuration;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Tests.Identity;

public sealed class ApiKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-keys-").FullName;

    [Fact]
    public async Task A_key_is_stored_only_as_a_salted_hash_verifies_and_stops_verifying_when_revoked()
    {
        var stores = ManagementStores.Open(new SafeHavenOptions { DataDirectory = _directory });
        await stores.Users.AddUserAsync("alice", AuditRecord.Of("t", "user.created", "alice"), CancellationToken.None);
        var (keyId, key) = await stores.ApiKeys.CreateAsync("alice", "t", CancellationToken.None);
        var (_, key2) = await stores.ApiKeys.CreateAsync("alice", "t", CancellationToken.None);

        Assert.StartsWith($"shk_{keyId}_", key, StringComparison.Ordinal);
        Assert.Equal("alice", (await stores.ApiKeys.VerifyAsync(key, CancellationToken.None)).User);
        var secret = key[(4 + 12 + 1)..];
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "safehaven.db")};Pooling=False"))
        {
            var rows = connection.Query<(byte[] Salt, byte[] Hash)>("SELECT salt, hash FROM mgmt_api_keys").ToList();
            Assert.Equal(2, rows.Count);
            Assert.NotEqual(rows[0].Salt, rows[1].Salt);
            var bytes = File.ReadAllBytes(Path.Combine(_directory, "safehaven.db")).Concat(File.Exists(Path.Combine(_directory, "safehaven.db-wal")) ? File.ReadAllBytes(Path.Combine(_directory, "safehaven.db-wal")) : []).ToArray();
            Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(secret)));
        }

        var wrong = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        Assert.Null((await stores.ApiKeys.VerifyAsync(wrong, CancellationToken.None)).User);

        await stores.Users.RevokeAsync("alice", keyId, AuditRecord.Of("t", "user.api-key.revoked", "alice"), CancellationToken.None);
        Assert.Equal("revoked API key", (await stores.ApiKeys.VerifyAsync(key, CancellationToken.None)).Failure);
        Assert.Equal("alice", (await stores.ApiKeys.VerifyAsync(key2, CancellationToken.None)).User);

        await stores.Users.RevokeAsync("alice", null, AuditRecord.Of("t", "user.revoked", "alice"), CancellationToken.None);
        Assert.Null((await stores.ApiKeys.VerifyAsync(key2, CancellationToken.None)).User);
        Assert.True((await stores.Users.GetUserAsync("alice", CancellationToken.None))!.Disabled);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
