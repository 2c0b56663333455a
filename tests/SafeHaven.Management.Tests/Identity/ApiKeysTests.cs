using Dapper;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Tests.Support;

namespace SafeHaven.Management.Tests.Identity;

public abstract class ApiKeysTests(DatabaseProvider provider) : TestDatabase(provider)
{
    /// <summary>Every byte the database holds where it can be read (SQLite: the file and its WAL), or null when not reachable.</summary>
    protected virtual byte[]? StoredBytes() => null;

    [Fact]
    public async Task A_key_is_stored_only_as_a_salted_hash_verifies_and_stops_verifying_when_revoked()
    {
        var stores = await ManagementStores.OpenAsync(Database, null, CancellationToken.None);
        await stores.Users.AddUserAsync("alice", AuditRecord.Of("t", "user.created", "alice"), CancellationToken.None);
        var (keyId, key) = await stores.ApiKeys.CreateAsync("alice", "t", CancellationToken.None);
        var (_, key2) = await stores.ApiKeys.CreateAsync("alice", "t", CancellationToken.None);

        Assert.StartsWith($"shk_{keyId}_", key, StringComparison.Ordinal);
        Assert.Equal("alice", (await stores.ApiKeys.VerifyAsync(key, CancellationToken.None)).User);
        var secret = key[(4 + 12 + 1)..];
        await using (var connection = Database.Open())
        {
            var rows = connection.Query<(byte[] Salt, byte[] Hash)>("SELECT salt, hash FROM mgmt_api_keys").ToList();
            Assert.Equal(2, rows.Count);
            Assert.NotEqual(rows[0].Salt, rows[1].Salt);
            Assert.All(rows, r => Assert.Equal(-1, r.Hash.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(secret))));
            Assert.Equal(0, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM mgmt_audit_log WHERE details LIKE @secret", new { secret = "%" + secret + "%" }));
        }
        if (StoredBytes() is { } bytes)
        {
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
}

public sealed class SqliteApiKeysTests() : ApiKeysTests(DatabaseProvider.Sqlite)
{
    protected override byte[]? StoredBytes()
    {
        var file = Path.Combine(Directory, "safehaven.db");
        return File.ReadAllBytes(file).Concat(File.Exists(file + "-wal") ? File.ReadAllBytes(file + "-wal") : []).ToArray();
    }
}

public sealed class PostgresApiKeysTests() : ApiKeysTests(DatabaseProvider.Postgres);
