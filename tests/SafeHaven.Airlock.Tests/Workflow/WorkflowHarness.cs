using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Scanning;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Workflow;

/// <summary>
/// The workflow over real stores in a scratch directory: the management SQLite file (users, project "proj", work
/// package "wp" classified at the given tier, the audit log) and the airlock's (volumes, uploads, submissions, tokens).
/// People: pm (Project Manager), inv (Investigator), ref (Referee), dpr (Dataset Provider Representative), res
/// (Researcher), outsider (no role in the project).
/// </summary>
internal sealed class WorkflowHarness : IDisposable
{
    public const string Project = "proj";
    public const string WorkPackage = "wp";

    private readonly TempDirectory _temp = new();

    private readonly SafeHavenDatabase _database;

    /// <param name="provider">SQLite: <c>DATA/safehaven.db</c> in a scratch directory; PostgreSQL: a fresh database on the test server.</param>
    public WorkflowHarness(int tier, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var options = new SafeHavenOptions { DataDirectory = _temp.Path };
        if (provider == DatabaseProvider.Postgres)
        {
            options.Database = new DatabaseOptions { Provider = "postgres", ConnectionString = PostgresServer.CreateDatabaseAsync().GetAwaiter().GetResult() };
        }
        Management = ManagementStores.Open(options, Time);
        // The airlock tables in the management database, as in the appliance: transitions and their audit entries commit together.
        _database = SafeHavenDatabase.Create(options);
        Database = AirlockDatabase.OpenAsync(_database, null, CancellationToken.None).GetAwaiter().GetResult();
        Volumes = new DatabaseVolumeStore(Database, Time);
        Sessions = new DatabaseUploadSessionStore(Database);
        Files = new FileSystemBlobStore(_temp.Combine("blobs"));
        Uploads = new UploadService(Sessions, Volumes, Files, new FileSystemBlobStore(_temp.Combine("chunks")), Time);
        Tokens = new AirlockTokens(Database, Time);
        Workflow = new AirlockWorkflow(new SubmissionStore(Database, Time), Volumes, Uploads, Sessions, Files, Tokens,
            new AirlockInspector(new InspectionOptions { TempDirectory = _temp.Path }), Management.Audit, Management.Projects, Management.Users,
            new AirlockAlerts(Management.Audit, Management.Users, NullLogger<AirlockAlerts>.Instance), NullLogger<AirlockWorkflow>.Instance, Time);
        Claims = new ScanClaims(Database, Time);
        Scanner = new AirlockScanner(Workflow, Claims, new AirlockOptions(), NullLogger<AirlockScanner>.Instance);
        SetUpAsync(tier).GetAwaiter().GetResult();
    }

    public ScanClaims Claims { get; }

    /// <summary>The scan job's worker, run by hand here (no scheduler): <see cref="ScanPendingAsync"/>.</summary>
    public AirlockScanner Scanner { get; }

    public ManualTime Time { get; } = new(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public ManagementStores Management { get; }
    public AirlockDatabase Database { get; }
    public DatabaseVolumeStore Volumes { get; }
    public DatabaseUploadSessionStore Sessions { get; }
    public FileSystemBlobStore Files { get; }
    public UploadService Uploads { get; }
    public AirlockTokens Tokens { get; }
    public AirlockWorkflow Workflow { get; }

    public static IPAddress Remote { get; } = IPAddress.Parse("192.0.2.10");

    private static CancellationToken Ct => TestContext.Token;

    private async Task SetUpAsync(int tier)
    {
        var audit = AuditRecord.Of("test", "setup", "setup");
        await Management.Projects.CreateProjectAsync(new ProjectRecord(Project, "A project", Time.GetUtcNow(), "test"), audit, Ct);
        await Management.Projects.CreateWorkPackageAsync(new WorkPackageRecord(Project, WorkPackage, "A work package", Time.GetUtcNow(), "test"), audit, Ct);
        foreach (var (user, role) in new[] { ("pm", Role.ProjectManager), ("inv", Role.Investigator), ("ref", Role.Referee), ("dpr", Role.DatasetProviderRepresentative), ("res", Role.Researcher) })
        {
            await Management.Users.AddUserAsync(user, audit, Ct);
            await Management.Users.AssignRoleAsync(user, role, Project, audit, Ct);
        }
        await Management.Users.AddUserAsync("outsider", audit, Ct);
        await Management.Users.AddUserAsync("progman", audit, Ct);
        await Management.Users.AssignRoleAsync("progman", Role.ProgrammeManager, null, audit, Ct);
        foreach (var (user, role) in new[] { ("inv", Role.Investigator), ("dpr", Role.DatasetProviderRepresentative), ("ref", Role.Referee) })
        {
            await Management.Projects.RecordClassificationAsync(Project, WorkPackage, new Classification(user, role, tier, "test", Time.GetUtcNow()), audit, Ct);
        }
    }

    public Caller Caller(string name)
    {
        var roles = Management.Users.GetRolesAsync(name, Ct).GetAwaiter().GetResult();
        return new Caller(name, roles.Where(r => r.Project is null).Select(r => r.Role), roles.Where(r => r.Project is not null).Select(r => (r.Project!, r.Role)), "test");
    }

    public async Task StoreAgreementAsync()
    {
        var content = "signed data-sharing agreement"u8.ToArray();
        await Workflow.StoreAgreementAsync(Caller("pm"), Project, WorkPackage, "dsa.pdf", content.Length, BlobDigest.Compute(content), new MemoryStream(content), Ct);
    }

    public Task<OpenedSubmission> OpenAsync(string opener, SubmissionKind kind, string? depositor = null, string? script = null, string? range = null) =>
        Workflow.OpenAsync(Caller(opener), new OpenSubmission(Project, WorkPackage, kind, depositor, script, TimeSpan.FromHours(2), range), Ct);

    /// <summary>Uploads one file in 64 KiB chunks through the deposit token.</summary>
    public async Task<VolumeFile> DepositAsync(string token, string path, byte[] content, IPAddress? remote = null)
    {
        var session = await Workflow.DepositSessionAsync(token, remote ?? Remote, Ct);
        var status = await Workflow.BeginUploadAsync(session, path, content.Length, BlobDigest.Compute(content), UploadService.MinChunkSize, Ct);
        for (var i = 0; i < status.Session.ChunkCount; i++)
        {
            var chunk = content.AsSpan(i * UploadService.MinChunkSize, (int)status.Session.LengthOf(i)).ToArray();
            await Workflow.PutChunkAsync(session, status.Session.Id, i, new MemoryStream(chunk), BlobDigest.Compute(chunk), Ct);
        }
        return await Workflow.CompleteUploadAsync(session, status.Session.Id, Ct);
    }

    /// <summary>
    /// Marks the transfer complete (which returns in <c>submitted</c>), then runs the pending inspections as the scan job
    /// would, and returns the submission as the inspection left it.
    /// </summary>
    public async Task<Submission> FinishAsync(string token, IPAddress? remote = null)
    {
        var submitted = await Workflow.FinishDepositAsync(await Workflow.DepositSessionAsync(token, remote ?? Remote, Ct), Ct);
        Assert.Equal(SubmissionState.Submitted, submitted.State);
        await ScanPendingAsync();
        return await Workflow.GetAsync(submitted.Id, Ct);
    }

    /// <summary>What one run of the scan job does: the watchdog, then every pending inspection.</summary>
    public Task<int> ScanPendingAsync() => Scanner.RunAsync(Ct);

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(string submissionId) =>
        await Management.Audit.QueryAsync(new AuditFilter(Target: $"airlock/{submissionId}", Limit: 1000), Ct);

    public void Dispose()
    {
        Management.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _database.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }
}
