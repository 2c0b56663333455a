using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tiers;

/// <summary>The policy in force and the allowlists it reads, replaced whole when configuration changes.</summary>
public sealed record PolicySnapshot(
    long Generation,
    TierPolicy Policy,
    IReadOnlyDictionary<string, Allowlist> Allowlists,
    double ModelThreshold = 0.5,
    IReadOnlyDictionary<string, string>? ModelInputFiles = null)
{
    /// <summary>Tier 3 may approve by model score; Tier 4 approves by hand only (scores are advice).</summary>
    public bool ModelApproves => Policy.Tier == 3;

    public Allowlist AllowlistFor(string ecosystem) =>
        Allowlists.TryGetValue(ecosystem, out var list) ? list : Allowlist.Empty;
}

/// <summary>Builds the <see cref="PolicySnapshot"/> from configuration and swaps it on reload.</summary>
public sealed class TierPolicyProvider : IDisposable
{
    private readonly IOptionsMonitor<SafeHavenOptions> _options;
    private readonly ILogger<TierPolicyProvider> _logger;
    private readonly IDisposable? _subscription;
    private PolicySnapshot _current;
    private long _generation;

    public TierPolicyProvider(IOptionsMonitor<SafeHavenOptions> options, ILogger<TierPolicyProvider> logger)
    {
        _options = options;
        _logger = logger;
        _current = Build(options.CurrentValue);
        _subscription = options.OnChange(o =>
        {
            try
            {
                Volatile.Write(ref _current, Build(o));
                Changed?.Invoke();
            }
            catch (Exception e) when (e is FormatException or IOException)
            {
                _logger.LogError(e, "Configuration change rejected; the previous policy stays in force");
            }
        });
    }

    public PolicySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after a new snapshot is in force.</summary>
    public event Action? Changed;

    private PolicySnapshot Build(SafeHavenOptions options)
    {
        var policy = options.Policy;
        var advisoriesDirectory = string.IsNullOrWhiteSpace(policy.AdvisoriesDirectory)
            ? options.ResolveDataPath("advisories")
            : Path.GetFullPath(policy.AdvisoriesDirectory);
        var advisories = AdvisoryIndex.Load(advisoriesDirectory, NormalizeForEcosystem, _logger);
        _logger.LogInformation("Loaded {Count} advisories from {Directory}", advisories.AdvisoryCount, advisoriesDirectory);

        var allowlists = new Dictionary<string, Allowlist>(StringComparer.OrdinalIgnoreCase);
        foreach (var (ecosystem, file) in policy.AllowlistFiles)
        {
            if (string.IsNullOrWhiteSpace(file))
            {
                continue;
            }
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"SafeHaven:Policy:AllowlistFiles:{ecosystem} names {file}, which does not exist.", file);
            }
            allowlists[ecosystem] = Allowlist.Load(file, name => NormalizeForEcosystem(ecosystem, name));
        }
        var tierPolicy = new TierPolicy(options.Tier, TimeSpan.FromDays(policy.MinimumAgeDays), TimeSpan.FromDays(policy.MaximumLagDays), advisories);
        return new PolicySnapshot(Interlocked.Increment(ref _generation), tierPolicy, allowlists, policy.ModelThreshold,
            new Dictionary<string, string>(policy.ModelInputFiles, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Package-name keys per ecosystem (OSV ecosystem names and mirror names both accepted).</summary>
    public static string NormalizeForEcosystem(string ecosystem, string name) => ecosystem.ToLowerInvariant() switch
    {
        "pypi" => PackageName.NormalizePyPI(name),
        "nuget" => name.ToLowerInvariant(),
        _ => name,
    };

    public void Dispose() => _subscription?.Dispose();
}
