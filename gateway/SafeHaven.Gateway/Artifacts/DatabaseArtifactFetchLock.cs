using System.Data.Common;
using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Gateway.Artifacts;

/// <summary>
/// <see cref="IArtifactFetchLock"/> over the replicas' shared PostgreSQL: a session advisory lock on the artifact's key
/// (two-key form, in a key space of its own so it never meets the one-key locks of migrations and transactions), held on
/// its own connection for the length of the fetch. A replica killed mid-fetch loses its connection, and PostgreSQL
/// releases the lock with it, so the next replica takes over.
/// </summary>
public sealed class DatabaseArtifactFetchLock : IArtifactFetchLock
{
    /// <summary>The first key of every artifact lock ("SHAF").</summary>
    private const int KeySpace = 0x53484146;

    private readonly SafeHavenDatabase _database;
    private readonly TimeSpan _maximumWait;

    public DatabaseArtifactFetchLock(SafeHavenDatabase database, TimeSpan maximumWait)
    {
        if (database.Provider != DatabaseProvider.Postgres)
        {
            throw new ArgumentException("artifact fetch locks across replicas need the postgres provider", nameof(database));
        }
        _database = database;
        _maximumWait = maximumWait;
    }

    public async Task<IAsyncDisposable?> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT set_config('lock_timeout', @Timeout, false)",
                new { Timeout = $"{(long)_maximumWait.TotalMilliseconds}ms" }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@Space, hashtext(@Key))",
                    new { Space = KeySpace, Key = key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (DbException e) when (e.SqlState == "55P03")
            {
                // lock_not_available: waited the bound; fetch without the claim.
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            return new Claim(connection, key);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@Space, hashtext(@Key))",
                new { Space = KeySpace, Key = key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (taken)
            {
                return new Claim(connection, key);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    private sealed class Claim(DbConnection connection, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@Space, hashtext(@Key)); RESET lock_timeout",
                    new { Space = KeySpace, Key = key }, cancellationToken: timeout.Token)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DbException or OperationCanceledException or InvalidOperationException)
            {
                // A broken connection: closing it (below) ends the session, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
