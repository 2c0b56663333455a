using System.Net;
using System.Text.Json;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Identity;

/// <summary>Failed authentication is throttled per client address and per key id; other clients are unaffected.</summary>
public sealed class AuthThrottleTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("192.0.2.66");
    private static readonly IPAddress Colleague = IPAddress.Parse("192.0.2.7");

    private static string WrongKey(int i) => ApiKeys.Prefix + i.ToString("x12", System.Globalization.CultureInfo.InvariantCulture) + "_" + new string('A', 43);

    [Fact]
    public async Task A_burst_of_wrong_keys_gets_429_with_retry_after_and_a_correct_key_from_another_address_still_works()
    {
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string>
        {
            ["SafeHaven:Auth:Throttle:MaxFailures"] = "5",
            ["SafeHaven:Auth:Throttle:WindowSeconds"] = "120",
        });
        var key = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));

        var statuses = new List<int>();
        var last = (Status: 0, RetryAfter: (string?)null, Body: "");
        for (var i = 0; i < 50; i++)
        {
            last = await host.SendFromAsync(Attacker, "/api/me", WrongKey(i));
            statuses.Add(last.Status);
            if (last.Status == 429)
            {
                break;
            }
        }
        // Five refusals are 401; the sixth failure is 429 (bounded: never more than MaxFailures + 1 attempts).
        Assert.Equal([401, 401, 401, 401, 401, 429], statuses);
        Assert.True(int.TryParse(last.RetryAfter, out var seconds) && seconds is > 0 and <= 120, $"Retry-After: {last.RetryAfter}");
        var problem = JsonDocument.Parse(last.Body).RootElement;
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("Too many refused credentials", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The attacker's address stays refused even with a correct key (nothing is checked while throttled)...
        var fromAttacker = await host.SendFromAsync(Attacker, "/api/me", key);
        Assert.Equal(429, fromAttacker.Status);
        Assert.NotNull(fromAttacker.RetryAfter);
        // ...while a colleague at another address signs in normally.
        var fromColleague = await host.SendFromAsync(Colleague, "/api/me", key);
        Assert.Equal(200, fromColleague.Status);
        Assert.Equal("sm", JsonDocument.Parse(fromColleague.Body).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Guessing_one_key_id_from_many_addresses_is_throttled_per_key_id()
    {
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string> { ["SafeHaven:Auth:Throttle:MaxFailures"] = "3" });
        var key = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
        var guess = key[..(ApiKeys.Prefix.Length + 13)] + new string('B', 43);
        var statuses = new List<int>();
        for (var i = 1; i <= 4; i++)
        {
            statuses.Add((await host.SendFromAsync(IPAddress.Parse($"198.51.100.{i}"), "/api/me", guess)).Status);
        }
        Assert.Equal([401, 401, 401, 429], statuses);
        // Another user's key, from a fresh address, is unaffected.
        var other = await host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
        Assert.Equal(200, (await host.SendFromAsync(IPAddress.Parse("198.51.100.99"), "/api/me", other)).Status);
    }

    [Fact]
    public async Task Successful_authentication_spends_nothing()
    {
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string> { ["SafeHaven:Auth:Throttle:MaxFailures"] = "2" });
        var key = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(200, (await host.SendFromAsync(Attacker, "/api/me", key)).Status);
        }
    }

    [Fact]
    public void Partitions_are_the_address_by_64_for_ipv6_and_the_key_id()
    {
        Assert.Equal(["address 2001:db8:1:2::/64", "key id 0123456789ab"],
            AuthThrottle.PartitionsOf(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "shk_0123456789ab_x"));
        Assert.Equal(["address 192.0.2.1"], AuthThrottle.PartitionsOf(IPAddress.Parse("::ffff:192.0.2.1"), "eyJhbGciOi.x.y"));
        Assert.Equal(["address unknown"], AuthThrottle.PartitionsOf(null, null));
    }

    [Fact]
    public void A_burst_is_logged_once_not_per_refused_request()
    {
        var logger = new CountingLogger();
        using var throttle = new AuthThrottle(Microsoft.Extensions.Options.Options.Create(new AuthOptions { Throttle = { MaxFailures = 2, WindowSeconds = 300 } }), logger);
        var partitions = AuthThrottle.PartitionsOf(Attacker, null);
        Assert.Null(throttle.Failed(partitions, "unknown API key"));
        Assert.Null(throttle.Failed(partitions, "unknown API key"));
        Assert.NotNull(throttle.Failed(partitions, "unknown API key"));
        for (var i = 0; i < 100; i++)
        {
            var wait = throttle.Refusing(partitions);
            Assert.NotNull(wait);
            throttle.Refused(partitions, wait.Value);
            throttle.Failed(partitions, "unknown API key");
        }
        Assert.Equal(1, logger.Warnings);
        Assert.Contains("192.0.2.66", logger.Last, StringComparison.Ordinal);
        Assert.Null(throttle.Refusing(AuthThrottle.PartitionsOf(Colleague, null)));
    }

    private sealed class CountingLogger : Microsoft.Extensions.Logging.ILogger<AuthThrottle>
    {
        public int Warnings { get; private set; }
        public string Last { get; private set; } = "";

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning)
            {
                Warnings++;
                Last = formatter(state, exception);
            }
        }
    }
}
