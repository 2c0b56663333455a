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

    /// <summary>What the management store contributed to this snapshot over configuration (empty when nothing).</summary>
    public PolicyOverlay Overlay { get; init; } = PolicyOverlay.None;
}

/// <summary>
/// Runtime changes held by the management store, laid over configuration: each value, when set, replaces the
/// configured one; <see cref="AllowlistEntries"/> (per ecosystem, entry lines as in an allowlist file) are added to the
/// file-based allowlists and must already be in effect (approved).
/// </summary>
public sealed record PolicyOverlay(
    int? Tier = null,
    int? MinimumAgeDays = null,
    int? MaximumLagDays = null,
    double? ModelThreshold = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? AllowlistEntries = null)
{
    public static readonly PolicyOverlay None = new();
}

/// <summary>Where runtime policy changes come from (the management store); read whenever a snapshot is built.</summary>
public interface IPolicyOverlaySource
{
    PolicyOverlay Load();
}

/// <summary>
/// Builds the <see cref="PolicySnapshot"/> from configuration overlaid with the management store's changes, and
/// swaps it whole when either changes (configuration reload, or <see cref="Refresh"/> after a management change).
/// </summary>
public sealed class TierPolicyProvider : IDisposable
{
    private readonly IOptionsMonitor<SafeHavenOptions> _options;
    private readonly IPolicyOverlaySource? _overlay;
    private readonly ILogger<TierPolicyProvider> _logger;
    private readonly IDisposable? _subscription;
    private readonly Lock _rebuild = new();
    private PolicySnapshot _current;
    private long _generation;
    private FileSystemWatcher? _advisoryWatcher;
    private string? _watchedDirectory;
    private readonly Timer _advisoryReload;

    /// <summary>How long the advisory folder must be quiet before a change to it is read (files are often written in steps).</summary>
    public static readonly TimeSpan AdvisoryReloadDelay = TimeSpan.FromMilliseconds(500);

    public TierPolicyProvider(IOptionsMonitor<SafeHavenOptions> options, ILogger<TierPolicyProvider> logger, IPolicyOverlaySource? overlay = null)
    {
        _options = options;
        _overlay = overlay;
        _logger = logger;
        _advisoryReload = new Timer(_ => ReloadAdvisories(), null, Timeout.Infinite, Timeout.Infinite);
        _current = Build(options.CurrentValue);
        _subscription = options.OnChange(o =>
        {
            try
            {
                Swap(o);
            }
            catch (Exception e) when (e is FormatException or IOException or ArgumentException)
            {
                _logger.LogError(e, "Configuration change rejected; the previous policy stays in force");
            }
        });
    }

    public PolicySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after a new snapshot is in force.</summary>
    public event Action? Changed;

    /// <summary>
    /// Rebuilds the snapshot from the current configuration and overlay and puts it in force. Throws (and keeps the
    /// previous snapshot) when the result would be invalid, e.g. an unreadable allowlist file.
    /// </summary>
    public PolicySnapshot Refresh()
    {
        Swap(_options.CurrentValue);
        return Current;
    }

    private void Swap(SafeHavenOptions options)
    {
        lock (_rebuild)
        {
            Volatile.Write(ref _current, Build(options));
        }
        Changed?.Invoke();
    }

    private PolicySnapshot Build(SafeHavenOptions options)
    {
        var policy = options.Policy;
        var overlay = _overlay?.Load() ?? PolicyOverlay.None;
        var advisoriesDirectory = string.IsNullOrWhiteSpace(policy.AdvisoriesDirectory)
            ? options.ResolveDataPath("advisories")
            : Path.GetFullPath(policy.AdvisoriesDirectory);
        var advisories = AdvisoryIndex.Load(advisoriesDirectory, NormalizeForEcosystem, _logger);
        _logger.LogInformation("Loaded {Count} advisories ({Malicious} malicious-package entries, {TrackerFixes} Debian security tracker fixes by source and release) from {Directory}",
            advisories.AdvisoryCount, advisories.MaliciousCount, advisories.TrackerFixCount, advisoriesDirectory);
        WatchAdvisories(advisoriesDirectory);

        var lines = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
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
            // Parsed alone first, so a bad line is reported against its own file.
            Allowlist.Load(file, name => NormalizeForEcosystem(ecosystem, name));
            lines[ecosystem] = [.. File.ReadLines(file)];
        }
        foreach (var (ecosystem, entries) in overlay.AllowlistEntries ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (!lines.TryGetValue(ecosystem, out var list))
            {
                lines[ecosystem] = list = [];
            }
            list.AddRange(entries);
        }
        var allowlists = new Dictionary<string, Allowlist>(StringComparer.OrdinalIgnoreCase);
        foreach (var (ecosystem, list) in lines)
        {
            allowlists[ecosystem] = Allowlist.Parse(list, name => NormalizeForEcosystem(ecosystem, name));
        }

        var tier = overlay.Tier ?? options.Tier;
        var minimumAge = overlay.MinimumAgeDays ?? policy.MinimumAgeDays;
        var maximumLag = overlay.MaximumLagDays ?? policy.MaximumLagDays;
        var tierPolicy = new TierPolicy(tier, TimeSpan.FromDays(minimumAge), TimeSpan.FromDays(maximumLag), advisories);
        return new PolicySnapshot(Interlocked.Increment(ref _generation), tierPolicy, allowlists, overlay.ModelThreshold ?? policy.ModelThreshold,
            new Dictionary<string, string>(policy.ModelInputFiles, StringComparer.OrdinalIgnoreCase))
        {
            Overlay = overlay,
        };
    }

    /// <summary>Package-name keys per ecosystem (OSV ecosystem names and mirror names both accepted).</summary>
    public static string NormalizeForEcosystem(string ecosystem, string name) => ecosystem.ToLowerInvariant() switch
    {
        "pypi" => PackageName.NormalizePyPI(name),
        "nuget" or "conda" => name.ToLowerInvariant(),
        _ => name,
    };

    /// <summary>
    /// Advisories dropped into (or removed from) the folder take effect without a restart: a malicious-package record
    /// must stop a version being served as soon as it arrives.
    /// </summary>
    private void WatchAdvisories(string directory)
    {
        if (string.Equals(_watchedDirectory, directory, StringComparison.Ordinal) || !Directory.Exists(directory))
        {
            return;
        }
        _advisoryWatcher?.Dispose();
        try
        {
            var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = true };
            FileSystemEventHandler changed = (_, _) => _advisoryReload.Change(AdvisoryReloadDelay, Timeout.InfiniteTimeSpan);
            watcher.Created += changed;
            watcher.Changed += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => _advisoryReload.Change(AdvisoryReloadDelay, Timeout.InfiniteTimeSpan);
            watcher.EnableRaisingEvents = true;
            _advisoryWatcher = watcher;
            _watchedDirectory = directory;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.LogWarning(e, "Cannot watch the advisories folder {Directory}; changes to it take effect on the next policy change", directory);
        }
    }

    private void ReloadAdvisories()
    {
        try
        {
            Refresh();
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException)
        {
            _logger.LogError(e, "Advisories changed but the policy could not be rebuilt; the previous policy stays in force");
        }
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _advisoryWatcher?.Dispose();
        _advisoryReload.Dispose();
    }
}
