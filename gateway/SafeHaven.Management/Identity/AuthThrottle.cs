using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SafeHaven.Management.Identity;

/// <summary>
/// Rate limit on failed authentication (<c>SafeHaven:Auth:Throttle</c>): at most <see cref="ThrottleOptions.MaxFailures"/>
/// refused credentials per window for one client address (IPv6 by /64) and for one API key id. Past that, every
/// request from that address, or naming that key id, answers 429 with <c>Retry-After</c> until the window turns,
/// without the credentials being checked. Successful authentication spends nothing. Fixed windows from
/// <see cref="System.Threading.RateLimiting"/>; idle partitions are dropped by the limiter itself. Each burst is
/// logged once (when a partition first starts refusing), not per request.
/// </summary>
public sealed partial class AuthThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _throttledUntil = new(StringComparer.Ordinal);
    private readonly ILogger<AuthThrottle> _logger;
    private readonly TimeProvider _time;

    public AuthThrottle(IOptions<AuthOptions> options, ILogger<AuthThrottle> logger, TimeProvider? time = null)
    {
        _logger = logger;
        _time = time ?? TimeProvider.System;
        var throttle = options.Value.Throttle;
        if (!throttle.Enabled)
        {
            return;
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(throttle.MaxFailures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(throttle.WindowSeconds, 1);
        var limiterOptions = new FixedWindowRateLimiterOptions
        {
            PermitLimit = throttle.MaxFailures,
            Window = TimeSpan.FromSeconds(throttle.WindowSeconds),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => limiterOptions));
    }

    /// <summary>The partitions a request falls in: its client address, and the key id of an API key it presents.</summary>
    public static IReadOnlyList<string> PartitionsOf(IPAddress? remote, string? bearer)
    {
        var partitions = new List<string>(2) { "address " + AddressPartition(remote) };
        if (bearer is not null && ApiKeys.LooksLikeKey(bearer) && bearer.Length >= ApiKeys.Prefix.Length + 12)
        {
            var keyId = bearer.Substring(ApiKeys.Prefix.Length, 12);
            if (keyId.All(char.IsAsciiHexDigitLower))
            {
                partitions.Add("key id " + keyId);
            }
        }
        return partitions;
    }

    private static string AddressPartition(IPAddress? remote)
    {
        if (remote is null)
        {
            return "unknown";
        }
        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }
        if (remote.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = remote.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return remote.ToString();
    }

    /// <summary>When any of the partitions is spent: how long until it may try again; otherwise null.</summary>
    public TimeSpan? Refusing(IReadOnlyList<string> partitions)
    {
        if (_limiter is null)
        {
            return null;
        }
        TimeSpan? longest = null;
        foreach (var partition in partitions)
        {
            using var lease = _limiter.AttemptAcquire(partition, 0);
            if (!lease.IsAcquired)
            {
                var retry = RetryAfterOf(lease);
                longest = longest is { } l && l > retry ? l : retry;
            }
        }
        return longest;
    }

    /// <summary>Spends one failure in each partition; returns the wait when this failure crossed (or was past) the limit.</summary>
    public TimeSpan? Failed(IReadOnlyList<string> partitions, string failure)
    {
        if (_limiter is null)
        {
            return null;
        }
        TimeSpan? longest = null;
        foreach (var partition in partitions)
        {
            using var lease = _limiter.AttemptAcquire(partition, 1);
            if (!lease.IsAcquired)
            {
                var retry = RetryAfterOf(lease);
                longest = longest is { } l && l > retry ? l : retry;
                LogBurstOnce(partition, retry, failure);
            }
        }
        return longest;
    }

    /// <summary>Notes a refusal of a spent partition (logged once per burst).</summary>
    public void Refused(IReadOnlyList<string> partitions, TimeSpan retryAfter)
    {
        foreach (var partition in partitions)
        {
            LogBurstOnce(partition, retryAfter, "throttled");
        }
    }

    private void LogBurstOnce(string partition, TimeSpan retryAfter, string failure)
    {
        var now = _time.GetUtcNow();
        if (_throttledUntil.TryGetValue(partition, out var until) && until > now)
        {
            return;
        }
        _throttledUntil[partition] = now + retryAfter;
        if (_throttledUntil.Count > 10_000)
        {
            foreach (var (key, value) in _throttledUntil)
            {
                if (value <= now)
                {
                    _throttledUntil.TryRemove(key, out _);
                }
            }
        }
        Log.Throttling(_logger, partition, (int)Math.Ceiling(retryAfter.TotalSeconds), failure);
    }

    private static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) && retry > TimeSpan.Zero ? retry : TimeSpan.FromSeconds(1);

    public void Dispose() => _limiter?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Too many failed authentications from {Partition}: refusing it with 429 for {Seconds} s (last failure: {Failure})")]
        public static partial void Throttling(ILogger logger, string partition, int seconds, string failure);
    }
}
