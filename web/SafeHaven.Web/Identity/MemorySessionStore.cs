using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Memory;

namespace SafeHaven.Web.Identity;

/// <summary>
/// Sessions held by the appliance, the cookie carrying only a random key: signing out removes the session, so a copy
/// of the cookie taken before (from a shared machine, a proxy log) is worth nothing afterwards, and an idle session
/// expires on the server as well as in the browser. Sessions live in this process's memory: a restart signs everyone
/// out, and replicas behind a load balancer need sticky sessions (the appliance's web application runs on one host).
/// </summary>
internal sealed class MemorySessionStore(WebOptions web) : ITicketStore, IDisposable
{
    private readonly MemoryCache _sessions = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    public Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Put(key, ticket);
        return Task.FromResult(key);
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        Put(key, ticket);
        return Task.CompletedTask;
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) =>
        Task.FromResult(_sessions.TryGetValue(key, out AuthenticationTicket? ticket) ? ticket : null);

    public Task RemoveAsync(string key)
    {
        _sessions.Remove(key);
        return Task.CompletedTask;
    }

    private void Put(string key, AuthenticationTicket ticket) =>
        _sessions.Set(key, ticket, new MemoryCacheEntryOptions { SlidingExpiration = web.IdleTimeout, Size = 1 });

    public void Dispose() => _sessions.Dispose();
}
