using System.ComponentModel.DataAnnotations;

namespace SafeHaven.Core.Configuration;

/// <summary>The <c>SafeHaven</c> configuration section: the contract operators' scripts rely on.</summary>
public sealed class SafeHavenOptions
{
    public const string Section = "SafeHaven";

    /// <summary>The environment's tier, 0 (open) to 4 (secret).</summary>
    [Range(0, 4)]
    public int Tier { get; set; } = 2;

    /// <summary>Listen address(es), separated by ';'.</summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Where the embedded database, the blob store and caches live.</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    public DatabaseOptions Database { get; set; } = new();

    public BlobStoreOptions BlobStore { get; set; } = new();

    /// <summary>Per-ecosystem mirror settings, keyed by ecosystem: pypi, cran, nuget, conda, apt.</summary>
    public Dictionary<string, MirrorOptions> Mirrors { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public PolicyOptions Policy { get; set; } = new();

    public ServerOptions Server { get; set; } = new();

    /// <summary>The <c>SafeHaven:Snapshots</c> section: how long published snapshots are kept.</summary>
    public SnapshotOptions Snapshots { get; set; } = new();

    public string ResolveDataPath(params string[] parts) =>
        Path.GetFullPath(Path.Combine([DataDirectory, .. parts]));
}

/// <summary>The <c>SafeHaven:Server</c> section: how the HTTP server schedules its work.</summary>
public sealed class ServerOptions
{
    /// <summary>
    /// Run request handlers and socket completions on the socket event threads instead of handing each one to the
    /// thread pool. On Linux this is what lets the appliance serve cached index pages at close to a static file
    /// server's rate (see bench/RESULTS.md). It is safe with the embedded SQLite database because no code path of the
    /// appliance then blocks on a socket; CPU-heavy work (parsing a large upstream index) moves itself to the thread
    /// pool. With <c>Database:Provider=postgres</c> it is not applied: the database's own sockets would share those
    /// threads with stores that wait on it. Turn it off to get the framework's default scheduling. Read once, at start.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;
}

/// <summary>The <c>SafeHaven:Snapshots</c> section: retention of published snapshots (and their dated URLs).</summary>
public sealed class SnapshotOptions
{
    /// <summary>Snapshots younger than this many days are kept (their dated URLs keep answering).</summary>
    [Range(0, 36500)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>At least this many snapshots per ecosystem are kept, however old.</summary>
    [Range(1, 10000)]
    public int KeepAtLeast { get; set; } = 3;
}

/// <summary>
/// A mirror's <c>Sync</c> section: when snapshots of it are captured, and what they include beyond what the tier's
/// roots list. A mirror with a schedule serves its current snapshot.
/// </summary>
public sealed class MirrorSyncOptions
{
    /// <summary>Quartz cron expression of the scheduled sync (e.g. <c>0 0 2 * * ?</c>); unset means no scheduled sync.</summary>
    public string? Schedule { get; set; }

    /// <summary>Package names every snapshot includes (and, with <see cref="Prefetch"/>, prefetches) at Tier 0-2.</summary>
    public List<string> Packages { get; set; } = [];

    /// <summary>Whether snapshots capture artifacts as well as indexes; unset means true at Tier 3/4, false at Tier 0-2.</summary>
    public bool? Prefetch { get; set; }
}

public sealed class DatabaseOptions
{
    /// <summary><c>sqlite</c> (embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Provider connection string; for SQLite, empty means <c>DataDirectory/safehaven.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// PostgreSQL only: how often each replica checks in with the clustered job scheduler. A replica silent for two
    /// intervals is taken for dead and its scheduled jobs are taken over by another.
    /// </summary>
    [Range(1, 3600)]
    public int SchedulerCheckinIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// How often (seconds) each replica checks the database for a policy change made elsewhere (another replica, a CLI
    /// command). On PostgreSQL a change is also notified at once (LISTEN/NOTIFY); this poll is the fallback.
    /// </summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 5;

    /// <summary>
    /// Several replicas (<c>postgres</c> only): how often a replica looks for allowlist closures another replica
    /// computed and stored, in seconds.
    /// </summary>
    [Range(1, 3600)]
    public int ClosurePollSeconds { get; set; } = 3;
}

public sealed class BlobStoreOptions
{
    /// <summary><c>filesystem</c> (embedded default) or <c>s3</c>.</summary>
    public string Provider { get; set; } = "filesystem";

    /// <summary>For the filesystem store; empty means <c>DataDirectory/blobs</c>.</summary>
    public string? Path { get; set; }

    public S3Options S3 { get; set; } = new();
}

public sealed class S3Options
{
    public string? ServiceUrl { get; set; }
    public string? Bucket { get; set; }
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
}

public sealed class MirrorOptions
{
    /// <summary>Base URL of the upstream repository (for PyPI, its simple index, ending in <c>/</c>).</summary>
    public string? Upstream { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>How long a fetched index is served before it is refreshed from upstream.</summary>
    [Range(0, 7 * 24 * 3600)]
    public int IndexTtlSeconds { get; set; } = 600;

    /// <summary>Timeout for one upstream index request.</summary>
    [Range(1, 3600)]
    public int UpstreamTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Largest upstream index document accepted; a larger one is refused with the reason and the last good copy is
    /// served. Unset means the ecosystem's default: 256 MiB, and 4 GiB for conda (a conda-forge platform
    /// <c>repodata.json</c> is several hundred MB, spooled to disk and parsed as a stream).
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long? MaximumIndexBytes { get; set; }

    /// <summary>How long upstream's "not found" for a name is remembered before upstream is asked again (0: not remembered).</summary>
    [Range(0, 24 * 3600)]
    public int NotFoundTtlSeconds { get; set; } = 60;

    /// <summary>An upstream artifact body slower than this, averaged over <see cref="UpstreamRateWindowSeconds"/>, is abandoned (502).</summary>
    [Range(0, long.MaxValue)]
    public long UpstreamMinimumBytesPerSecond { get; set; } = 1024;

    /// <summary>The window the minimum transfer rate is averaged over.</summary>
    [Range(1, 3600)]
    public int UpstreamRateWindowSeconds { get; set; } = 30;

    /// <summary>The whole of one upstream artifact body must arrive within this (502 otherwise).</summary>
    [Range(1, 7 * 24 * 3600)]
    public int UpstreamBodyDeadlineSeconds { get; set; } = 3600;

    /// <summary>
    /// Further origins (scheme://host:port) that artifact URLs in upstream indexes may point to, e.g. a separate
    /// file host. The appliance fetches from nowhere else, whatever an index says.
    /// </summary>
    public List<string> FileOrigins { get; set; } = [];

    /// <summary>
    /// Artifacts up to this size are verified before the first byte is sent, so a hash mismatch answers 502.
    /// Larger ones are streamed to the client while stored, holding back the last block until the hash is
    /// verified; on a mismatch the connection is aborted, so the client never receives a complete bad file.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long VerifyBeforeServingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How often the Tier 3+ allowlist closure is recomputed.</summary>
    [Range(1, 7 * 24 * 60)]
    public int ClosureRefreshMinutes { get; set; } = 60;

    /// <summary>
    /// PEP 508 marker variables of the environment's clients (e.g. sys_platform=linux). Markers on variables
    /// not set here are treated as possibly true when closing the allowlist over dependencies.
    /// </summary>
    public Dictionary<string, string> TargetEnvironment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>/healthz</c> turns degraded when the tier hides at least this share of the upstream versions the mirror
    /// has looked at for a reason an operator can act on (no usable date, cannot be verified).
    /// </summary>
    [Range(0.0, 1.0)]
    public double DegradedHiddenShare { get; set; } = 0.1;

    /// <summary>
    /// NuGet: SHA-256 fingerprints (hex) of the certificates whose repository signature vouches for a package when
    /// upstream gives no hash of its own. A package signed by none of them, and with no upstream hash, is not listed.
    /// </summary>
    public List<string> TrustedSigners { get; set; } = [];

    /// <summary>
    /// NuGet: the target frameworks of the environment's projects (e.g. <c>net10.0</c>). When set, the Tier 3+ closure
    /// follows, for each, only the dependency group restore would pick (the nearest compatible one), as pip markers are
    /// evaluated for PyPI; when empty, every group of every framework is followed.
    /// </summary>
    public List<string> TargetFrameworks { get; set; } = [];

    /// <summary>
    /// apt: the upstream Debian-format repositories of the one apt mirror, by name; each is served at
    /// <c>/apt/&lt;name&gt;/</c>. The mirror's own <see cref="Upstream"/> is not used by apt.
    /// </summary>
    public Dictionary<string, AptRepositoryOptions> Repositories { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// conda: the upstream channels of the one conda mirror, by name; each is served at <c>/conda/&lt;name&gt;/</c>.
    /// The mirror's own <see cref="Upstream"/> is not used by conda.
    /// </summary>
    public Dictionary<string, CondaChannelOptions> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Scheduled sync and snapshot contents of this mirror.</summary>
    public MirrorSyncOptions Sync { get; set; } = new();

    /// <summary>
    /// Whether this mirror serves snapshots: it is enabled and either has a sync schedule or names no upstream at all
    /// (a snapshot-only mirror of an import-only appliance).
    /// </summary>
    public bool ServesSnapshots => Enabled && (!string.IsNullOrWhiteSpace(Sync.Schedule) || !HasUpstream);

    /// <summary>Whether this mirror names an upstream at all: its own <see cref="Upstream"/>, apt repositories or conda channels.</summary>
    public bool HasUpstream => !string.IsNullOrWhiteSpace(Upstream) || Repositories.Count > 0 || Channels.Count > 0;

    /// <summary>apt: how long the appliance's signed <c>Release</c> is valid (its <c>Valid-Until</c>); clients refuse an older one.</summary>
    [Range(1, 3650)]
    public int ReleaseValidDays { get; set; } = 7;

    /// <summary>HTTP(S) proxy the appliance reaches this upstream through (the site's egress proxy), e.g. <c>http://proxy.example:3128</c>.</summary>
    public string? Proxy { get; set; }

    /// <summary>Credentials for a private upstream registry; sent only to the configured upstream and file origins, never logged.</summary>
    public UpstreamCredentialOptions Credentials { get; set; } = new();
}

/// <summary>
/// One upstream Debian-format archive of the apt mirror (<c>SafeHaven:Mirrors:apt:Repositories:&lt;name&gt;</c>).
/// List-valued keys take configuration list items, each of which may also hold several values separated by commas
/// or spaces; an empty list means the default.
/// </summary>
public sealed class AptRepositoryOptions
{
    /// <summary>Base URL of the archive, the folder holding <c>dists/</c> and <c>pool/</c>.</summary>
    public string? Upstream { get; set; }

    /// <summary>Suites (code names or suite names) to mirror, e.g. <c>bookworm</c>, <c>bookworm-updates</c>.</summary>
    public List<string> Suites { get; set; } = [];

    /// <summary>Components; default <c>main</c>.</summary>
    public List<string> Components { get; set; } = [];

    /// <summary>Architectures; default <c>amd64</c>. <c>all</c> is always included.</summary>
    public List<string> Architectures { get; set; } = [];

    /// <summary>The OpenPGP keyring (binary or armored) whose keys may sign this upstream's <c>Release</c>.</summary>
    public string? UpstreamKeyring { get; set; }

    /// <summary>A security repository: its versions skip the Tier 2+ quarantine.</summary>
    public bool Undelayed { get; set; }
}

/// <summary>
/// One upstream conda channel of the conda mirror (<c>SafeHaven:Mirrors:conda:Channels:&lt;name&gt;</c>). List items
/// may each hold several values separated by commas or spaces; an empty list means the default.
/// </summary>
public sealed class CondaChannelOptions
{
    /// <summary>Base URL of the channel, the folder holding <c>noarch/</c> and the platform subdirs.</summary>
    public string? Upstream { get; set; }

    /// <summary>Subdirs to mirror; default <c>noarch</c> and <c>linux-64</c>.</summary>
    public List<string> Subdirs { get; set; } = [];
}

/// <summary>
/// How the appliance signs in to a private upstream: <c>basic</c> (a user name and a password read from a file) or
/// <c>bearer</c> (a token read from a file). Secrets are read from files so they stay out of configuration dumps.
/// </summary>
public sealed class UpstreamCredentialOptions
{
    /// <summary><c>none</c> (default), <c>basic</c> or <c>bearer</c>.</summary>
    public string Scheme { get; set; } = "none";

    /// <summary>For <c>basic</c>: the user name.</summary>
    public string? Username { get; set; }

    /// <summary>The file holding the password (basic) or token (bearer); surrounding whitespace is ignored.</summary>
    public string? SecretFile { get; set; }
}

public sealed class PolicyOptions
{
    /// <summary>Tier 2+: days since upstream upload before a version becomes visible.</summary>
    [Range(0, 3650)]
    public int MinimumAgeDays { get; set; } = 7;

    /// <summary>Tier 2+: the mirror's index may never be older than this.</summary>
    [Range(1, 3650)]
    public int MaximumLagDays { get; set; } = 42;

    /// <summary>Tier 3+: approved lists, one name per line, keyed by ecosystem.</summary>
    public Dictionary<string, string> AllowlistFiles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Tier 3: whitelist-model score at or above which a package is approved. The default is the threshold the
    /// shipped PyPI model was calibrated to on its validation split (see whitelist-model/EVALUATION.md).
    /// </summary>
    [Range(0.0, 1.0)]
    public double ModelThreshold { get; set; } = 0.9205;

    /// <summary>
    /// Tier 3: per ecosystem, a TSV of package metadata (the columns of <c>safehaven whitelist score</c>) whose rows
    /// the whitelist model scores; rows at or above <see cref="ModelThreshold"/> are approved like allowlist entries.
    /// </summary>
    public Dictionary<string, string> ModelInputFiles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Tier 3: per ecosystem, the monthly lists of the most downloaded packages (the format of <c>safehaven whitelist score
    /// --popularity-history</c>: <c>month, rank, name, download_count</c>, gzip or plain). When set, the model input is scored
    /// with the history model (<c>pypi-v2</c>) as of the scoring day; when not, with <c>pypi-v1</c> exactly as before.
    /// </summary>
    public Dictionary<string, string> PopularityHistoryFiles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Folder of OSV-format advisory JSON files; empty means <c>DataDirectory/advisories</c>.</summary>
    public string? AdvisoriesDirectory { get; set; }
}
