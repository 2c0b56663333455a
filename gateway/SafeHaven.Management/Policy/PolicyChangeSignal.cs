using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management.Policy;

/// <summary>
/// Keeps this replica's policy in step with the database: a policy, allowlist or threshold change made by another
/// replica (or by a CLI command beside the server) is in force here within seconds. On PostgreSQL a dedicated
/// connection <c>LISTEN</c>s on <c>safehaven_policy</c> (reconnecting when the connection is lost); on both providers
/// the generation is also polled every <c>SafeHaven:Database:PollSeconds</c>, the fallback for a lost notification.
/// </summary>
internal sealed partial class PolicyChangeSignal(ManagementDatabase database, TierPolicyProvider provider, TimeSpan poll, ILogger<PolicyChangeSignal> logger)
    : BackgroundService
{
    /// <summary>How long a listening connection waits for a notification before checking that it is still alive.</summary>
    private static readonly TimeSpan ListenKeepAlive = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _checking = new(1, 1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var polling = PollAsync(stoppingToken);
        return database.Database.Provider == DatabaseProvider.Postgres
            ? Task.WhenAll(polling, ListenAsync(stoppingToken))
            : polling;
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(poll);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await CheckAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = (NpgsqlConnection)await database.OpenAsync(stoppingToken).ConfigureAwait(false);
                await using (var listen = new NpgsqlCommand($"LISTEN {PolicyGenerations.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }
                LogListening(logger);
                // Changes made while this connection was down were not notified here.
                await CheckAsync(stoppingToken).ConfigureAwait(false);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (await connection.WaitAsync(ListenKeepAlive, stoppingToken).ConfigureAwait(false))
                    {
                        await CheckAsync(stoppingToken).ConfigureAwait(false);
                        continue;
                    }
                    await using var alive = new NpgsqlCommand("SELECT 1", connection);
                    await alive.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                LogListenFailed(logger, e, ReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(ReconnectDelay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Rebuilds the policy when the database's generation is newer than the one in force here.</summary>
    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        await _checking.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long current;
            await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                current = await PolicyGenerations.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            if (!database.Generations.IsBehind(current))
            {
                return;
            }
            LogRebuilding(logger, current, database.Generations.Loaded);
            provider.Refresh();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException or FormatException or ArgumentException or TimeoutException)
        {
            // The database is unreachable for a moment, or the rebuilt policy is invalid (the previous one stays in force):
            // the next notification or poll tries again.
            LogCheckFailed(logger, e);
        }
        finally
        {
            _checking.Release();
        }
    }

    public override void Dispose()
    {
        _checking.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Listening for policy changes on PostgreSQL channel safehaven_policy")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for policy changes failed; reconnecting in {Seconds} s (the generation is still polled)")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Policy generation {Current} in the database (this replica's policy is from {Loaded}): rebuilding the policy in force")]
    private static partial void LogRebuilding(ILogger logger, long current, long loaded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the policy generation failed; the policy in force stays until the next check")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
