using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Web.Identity;

/// <summary>
/// Sessions held by the appliance in its database, the cookie carrying only a random key: signing out removes the
/// session, so a copy of the cookie taken before (from a shared machine, a proxy log) is worth nothing afterwards, and
/// an idle session expires on the server as well as in the browser. Every replica reads the same table, so a session
/// started on one is served by any other and survives a restart. A row holds the ticket serialized and protected
/// with the data protection API (whose keys the replicas share, <see cref="DatabaseXmlRepository"/>), under the
/// SHA-256 of the key, so reading the table alone yields neither the session's claims nor a usable key.
/// </summary>
internal sealed class DatabaseSessionStore : ITicketStore
{
    public const string Purpose = "SafeHaven.Web.Sessions.v1";

    /// <summary>How often at most a replica deletes expired rows.</summary>
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromMinutes(5);

    private readonly SafeHavenDatabase _database;
    private readonly IDataProtector _protector;
    private readonly TimeSpan _idle;
    private readonly TimeSpan _slideAfter;
    private readonly TimeProvider _time;
    private long _nextPurge;

    public DatabaseSessionStore(SafeHavenDatabase database, IDataProtectionProvider protection, WebOptions web, TimeProvider time)
    {
        _database = database;
        _protector = protection.CreateProtector(Purpose);
        _idle = web.IdleTimeout;
        // Use extends the expiry; it is written at most once per 1/30 of the idle timeout (at least a second), not on every request.
        _slideAfter = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _idle.Ticks / 30));
        _time = time;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, CancellationToken.None);

    public Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken) => StoreAsync(ticket, cancellationToken);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await PurgeExpiredAsync(cancellationToken).ConfigureAwait(false);
        await PutAsync(key, ticket, cancellationToken).ConfigureAwait(false);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken) => PutAsync(key, ticket, cancellationToken);

    public Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken) => PutAsync(key, ticket, cancellationToken);

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken) => RetrieveAsync(key, cancellationToken);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        var id = IdOf(key);
        var now = Now;
        Row? row;
        await using (var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                "SELECT ticket AS Ticket, expires_at AS ExpiresAt, slid_at AS SlidAt FROM web_sessions WHERE id = @id",
                new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }
            if (row.ExpiresAt <= now)
            {
                await connection.ExecuteAsync(new CommandDefinition("DELETE FROM web_sessions WHERE id = @id AND expires_at <= @now",
                    new { id, now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return null;
            }
            if (now - row.SlidAt >= (long)_slideAfter.TotalMilliseconds)
            {
                // Sliding: a session in use does not expire; the condition keeps an expiry another replica moved further.
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE web_sessions SET expires_at = @expires, slid_at = @now WHERE id = @id AND expires_at < @expires",
                    new { id, now, expires = now + (long)_idle.TotalMilliseconds }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }
        try
        {
            return TicketSerializer.Default.Deserialize(_protector.Unprotect(row.Ticket));
        }
        catch (CryptographicException)
        {
            // Written under a key this key ring no longer holds (or tampered with): no session, sign in again.
            return null;
        }
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken) => RemoveAsync(key, cancellationToken);

    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM web_sessions WHERE id = @id", new { id = IdOf(key) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private async Task PutAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var now = Now;
        var protectedTicket = _protector.Protect(TicketSerializer.Default.Serialize(ticket));
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO web_sessions (id, ticket, expires_at, slid_at) VALUES (@id, @ticket, @expires, @now)
            ON CONFLICT (id) DO UPDATE SET ticket = excluded.ticket, expires_at = excluded.expires_at, slid_at = excluded.slid_at
            """, new { id = IdOf(key), ticket = protectedTicket, expires = now + (long)_idle.TotalMilliseconds, now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Deletes the rows of sessions that ended by idleness (at most every few minutes per replica).</summary>
    internal async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var next = Interlocked.Read(ref _nextPurge);
        if (now < next || Interlocked.CompareExchange(ref _nextPurge, now + (long)PurgeInterval.TotalMilliseconds, next) != next)
        {
            return 0;
        }
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition("DELETE FROM web_sessions WHERE expires_at <= @now",
            new { now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The row id of a session key: its SHA-256, so the table does not hold the keys the cookies carry.</summary>
    private static string IdOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private sealed class Row
    {
        public byte[] Ticket { get; set; } = [];
        public long ExpiresAt { get; set; }
        public long SlidAt { get; set; }
    }
}
