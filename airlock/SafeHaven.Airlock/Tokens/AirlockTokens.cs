using System.Data.Common;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Submissions;

using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Tokens;

public enum AirlockTokenKind
{
    /// <summary>Write-only: add files to one submission's volume until the transfer is marked complete (one-time).</summary>
    Deposit,
    /// <summary>Read-only: download an approved egress submission's files until it expires.</summary>
    Release,
}

/// <summary>What is stored of a token: never the token itself, only a per-token salt and SHA-256(salt || secret).</summary>
public sealed record AirlockTokenRecord(
    string Id, AirlockTokenKind Kind, string SubmissionId, DateTimeOffset ExpiresAt, string? AllowedRange,
    DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? EndedAt);

/// <summary>
/// Deposit and release tokens, the approach of the management API keys: <c>shd_&lt;id&gt;_&lt;secret&gt;</c> (deposit) or
/// <c>shr_&lt;id&gt;_&lt;secret&gt;</c> (release), 32 random bytes of secret shown once, stored as a salted hash and
/// compared in constant time. Each has an expiry and optionally a CIDR range the connection must come from. A
/// deposit token is one-time: ending the deposit (the transfer marked complete) ends the token for good.
/// </summary>
public sealed class AirlockTokens(AirlockDatabase database, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public static string PrefixOf(AirlockTokenKind kind) => kind == AirlockTokenKind.Deposit ? "shd_" : "shr_";

    /// <summary>A CIDR range in canonical form, or a 400 refusal.</summary>
    public static string? NormaliseRange(string? range)
    {
        if (string.IsNullOrWhiteSpace(range))
        {
            return null;
        }
        if (!IPNetwork.TryParse(range.Trim(), out var network))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"'{range}' is not a CIDR range (e.g. 192.0.2.0/24 or 2001:db8::/48).");
        }
        return network.ToString();
    }

    public static bool InRange(string range, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }
        var network = IPNetwork.Parse(range);
        if (address.IsIPv4MappedToIPv6 && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }
        return network.Contains(address);
    }

    public async Task<(AirlockTokenRecord Record, string Token)> IssueAsync(
        AirlockTokenKind kind, string submissionId, TimeSpan lifetime, string? allowedRange, string createdBy, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await IssueAsync(connection, null, kind, submissionId, lifetime, allowedRange, createdBy, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Issues a token inside the caller's transaction (it exists only if that transaction commits).</summary>
    public async Task<(AirlockTokenRecord Record, string Token)> IssueAsync(DbConnection connection, DbTransaction? transaction,
        AirlockTokenKind kind, string submissionId, TimeSpan lifetime, string? allowedRange, string createdBy, CancellationToken cancellationToken)
    {
        if (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(90))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, "A token lives between one minute and 90 days.");
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var salt = RandomNumberGenerator.GetBytes(16);
        var now = _time.GetUtcNow();
        var record = new AirlockTokenRecord(id, kind, submissionId, now + lifetime, NormaliseRange(allowedRange), now, createdBy, null);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO airlock_tokens (id, kind, submission_id, salt, hash, expires_at, allowed_range, created_at, created_by, ended_at)
            VALUES (@Id, @Kind, @SubmissionId, @Salt, @Hash, @ExpiresAt, @AllowedRange, @CreatedAt, @CreatedBy, NULL)
            """, new
        {
            record.Id, Kind = kind.ToString(), record.SubmissionId, Salt = salt, Hash = SaltedSecret.Hash(salt, secret),
            ExpiresAt = record.ExpiresAt.ToUnixTimeMilliseconds(), record.AllowedRange, CreatedAt = now.ToUnixTimeMilliseconds(), record.CreatedBy,
        }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return (record, $"{PrefixOf(kind)}{id}_{secret}");
    }

    /// <summary>
    /// The live token <paramref name="token"/> is, presented from <paramref name="remote"/>; or the refusal:
    /// 401 unknown or malformed, 410 expired or used up, 403 outside its address range.
    /// </summary>
    public Task<AirlockTokenRecord> VerifyAsync(AirlockTokenKind kind, string? token, IPAddress? remote, CancellationToken cancellationToken) =>
        VerifyAsync(kind, token, remote, allowUsedUp: false, cancellationToken);

    /// <summary>
    /// As <see cref="VerifyAsync(AirlockTokenKind, string?, IPAddress?, CancellationToken)"/>; with <paramref name="allowUsedUp"/>
    /// a token that was used up (ended) still verifies until it expires, for reads of its own submission's state only.
    /// </summary>
    public async Task<AirlockTokenRecord> VerifyAsync(AirlockTokenKind kind, string? token, IPAddress? remote, bool allowUsedUp, CancellationToken cancellationToken)
    {
        var prefix = PrefixOf(kind);
        if (token is null || token.Length != prefix.Length + 12 + 1 + 43 || !token.StartsWith(prefix, StringComparison.Ordinal) || token[prefix.Length + 12] != '_')
        {
            throw new AirlockWorkflowException(AirlockError.TokenInvalid, $"A {kind.ToString().ToLowerInvariant()} token ({prefix}...) is required.");
        }
        var id = token.Substring(prefix.Length, 12);
        var secret = token[(prefix.Length + 13)..];
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(
            "SELECT id AS Id, kind AS Kind, submission_id AS SubmissionId, salt AS Salt, hash AS Hash, expires_at AS ExpiresAt, allowed_range AS AllowedRange, created_at AS CreatedAt, created_by AS CreatedBy, ended_at AS EndedAt FROM airlock_tokens WHERE id = @id",
            new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var matches = SaltedSecret.Matches(row?.Salt, row?.Hash, secret);
        if (row is null || !matches || row.Kind != kind.ToString())
        {
            throw new AirlockWorkflowException(AirlockError.TokenInvalid, "Unknown token.");
        }
        var record = row.ToRecord();
        if (record.EndedAt is { } ended && !allowUsedUp)
        {
            throw new AirlockWorkflowException(AirlockError.TokenUsed, $"This token was used up at {ended:O}; ask for a new one.");
        }
        if (_time.GetUtcNow() >= record.ExpiresAt)
        {
            throw new AirlockWorkflowException(AirlockError.TokenExpired, $"This token expired at {record.ExpiresAt:O}.");
        }
        if (record.AllowedRange is { } range && !InRange(range, remote))
        {
            throw new AirlockWorkflowException(AirlockError.TokenOutsideRange, $"This token is valid only from {range}, not from {remote?.ToString() ?? "an unknown address"}.");
        }
        return record;
    }

    /// <summary>Ends a token for good (deposit complete, submission revoked). False when it had already ended.</summary>
    public async Task<bool> EndAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_tokens SET ended_at = @now WHERE id = @id AND ended_at IS NULL",
            new { id, now = _time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    /// <summary>Ends every live token of a submission (of one kind); returns how many.</summary>
    public async Task<int> EndAllAsync(string submissionId, AirlockTokenKind kind, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_tokens SET ended_at = @now WHERE submission_id = @submissionId AND kind = @kind AND ended_at IS NULL",
            new { submissionId, kind = kind.ToString(), now = _time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AirlockTokenRecord>> ListAsync(string submissionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<TokenRow>(new CommandDefinition(
            "SELECT id AS Id, kind AS Kind, submission_id AS SubmissionId, salt AS Salt, hash AS Hash, expires_at AS ExpiresAt, allowed_range AS AllowedRange, created_at AS CreatedAt, created_by AS CreatedBy, ended_at AS EndedAt FROM airlock_tokens WHERE submission_id = @submissionId ORDER BY created_at",
            new { submissionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    private sealed class TokenRow
    {
        public string Id { get; set; } = "";
        public string Kind { get; set; } = "";
        public string SubmissionId { get; set; } = "";
        public byte[] Salt { get; set; } = [];
        public byte[] Hash { get; set; } = [];
        public long ExpiresAt { get; set; }
        public string? AllowedRange { get; set; }
        public long CreatedAt { get; set; }
        public string CreatedBy { get; set; } = "";
        public long? EndedAt { get; set; }

        public AirlockTokenRecord ToRecord() => new(Id, Enum.Parse<AirlockTokenKind>(Kind), SubmissionId,
            DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAt), AllowedRange, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), CreatedBy,
            EndedAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null);
    }
}
