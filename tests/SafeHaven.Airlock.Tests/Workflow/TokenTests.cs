using System.Net;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Workflow;

/// <summary>Deposit and release tokens over the airlock tables, once per database provider (the subclasses below).</summary>
public abstract class TokenTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private readonly ManualTime _time = new(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private static CancellationToken Ct => TestContext.Token;

    private AirlockTokens Tokens() => new(AirlockDatabase.OpenAsync(Database, null, Ct).GetAwaiter().GetResult(), _time);

    /// <summary>Everything stored: the SQLite file and its WAL as bytes, or every token row as PostgreSQL prints it.</summary>
    private async Task<string> StoredTextAsync()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            var path = Path.Combine(Directory, "safehaven.db");
            var bytes = (await File.ReadAllBytesAsync(path, Ct)).Concat(File.Exists(path + "-wal") ? await File.ReadAllBytesAsync(path + "-wal", Ct) : []).ToArray();
            return System.Text.Encoding.ASCII.GetString(bytes);
        }
        await using var connection = await Database.OpenAsync(Ct);
        return string.Join("\n", await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT t::text FROM airlock_tokens t"));
    }

    private static async Task<AirlockError> RefusalAsync(Func<Task> action) =>
        (await Assert.ThrowsAsync<AirlockWorkflowException>(action)).Error;

    [Fact]
    public async Task A_token_is_shown_once_stored_salted_and_verifies()
    {
        var tokens = Tokens();
        var (record, token) = await tokens.IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), null, "pm", Ct);
        Assert.StartsWith("shd_" + record.Id + "_", token, StringComparison.Ordinal);
        Assert.Equal("s1", (await tokens.VerifyAsync(AirlockTokenKind.Deposit, token, IPAddress.Loopback, Ct)).SubmissionId);
        var stored = await StoredTextAsync();
        Assert.Contains(record.Id, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(token[^43..], stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_secret_wrong_kind_and_garbage_are_401()
    {
        var tokens = Tokens();
        var (_, token) = await tokens.IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), null, "pm", Ct);
        var tampered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
        Assert.Equal(AirlockError.TokenInvalid, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, tampered, null, Ct)));
        Assert.Equal(AirlockError.TokenInvalid, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Release, token, null, Ct)));
        Assert.Equal(AirlockError.TokenInvalid, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, "nonsense", null, Ct)));
        Assert.Equal(AirlockError.TokenInvalid, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, null, null, Ct)));
    }

    [Fact]
    public async Task An_expired_token_is_410()
    {
        var tokens = Tokens();
        var (_, token) = await tokens.IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), null, "pm", Ct);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AirlockError.TokenExpired, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, token, null, Ct)));
    }

    [Fact]
    public async Task A_used_up_token_is_410_and_cannot_be_ended_twice()
    {
        var tokens = Tokens();
        var (record, token) = await tokens.IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), null, "pm", Ct);
        Assert.True(await tokens.EndAsync(record.Id, Ct));
        Assert.False(await tokens.EndAsync(record.Id, Ct));
        Assert.Equal(AirlockError.TokenUsed, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, token, null, Ct)));
    }

    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.77", true)]
    [InlineData("192.0.2.0/24", "::ffff:192.0.2.77", true)]
    [InlineData("192.0.2.0/24", "198.51.100.1", false)]
    [InlineData("2001:db8::/48", "2001:db8::1", true)]
    [InlineData("2001:db8::/48", "127.0.0.1", false)]
    public async Task A_token_bound_to_a_range_works_only_from_inside_it(string range, string remote, bool accepted)
    {
        var tokens = Tokens();
        var (_, token) = await tokens.IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), range, "pm", Ct);
        if (accepted)
        {
            await tokens.VerifyAsync(AirlockTokenKind.Deposit, token, IPAddress.Parse(remote), Ct);
        }
        else
        {
            Assert.Equal(AirlockError.TokenOutsideRange, await RefusalAsync(() => tokens.VerifyAsync(AirlockTokenKind.Deposit, token, IPAddress.Parse(remote), Ct)));
        }
    }

    [Fact]
    public async Task A_bad_range_is_refused_when_issuing() =>
        Assert.Equal(AirlockError.Invalid, await RefusalAsync(() => Tokens().IssueAsync(AirlockTokenKind.Deposit, "s1", TimeSpan.FromHours(1), "not-a-range", "pm", Ct)));
}

public sealed class SqliteTokenTests() : TokenTests(DatabaseProvider.Sqlite);

public sealed class PostgresTokenTests() : TokenTests(DatabaseProvider.Postgres);
