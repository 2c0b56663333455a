using System.Security.Cryptography;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace SafeHaven.Management.Tests.Api;

/// <summary>
/// Every endpoint × every caller gets exactly the intended status. Each row runs against a freshly seeded appliance.
///
/// The world every row starts from: projects <c>a</c> and <c>b</c>; work package <c>a/wp1</c>; user <c>newbie</c>
/// with no role; <c>col</c> in the Referee college; <c>res-a</c> and <c>res2-a</c> are Researchers in <c>a</c>; hand-added PyPI allowlist entries <c>pending-pkg</c>
/// (pending) and <c>removable</c> (approved), both added by <c>sm</c>; a file allowlist; Tier 3; a computed PyPI closure;
/// user <c>waiting</c> nominated Researcher of <c>a</c> by <c>pm-a</c>, pending a Dataset Provider Representative's counter-approval
/// (at Tier 3 every new member of <c>a</c> is pending: the matrix's 202s).
/// </summary>
public sealed class AuthorizationMatrixTests
{
    // Callers (columns):
    //   anon   no credentials                 exp    an expired token (otherwise a valid System Manager token)
    //   fkey   a token signed by another key  bkey   an API key that does not exist
    //   SM     System Manager (API key)       PgM    Programme Manager (JWT)
    //   PM-A   Project Manager of a (JWT)     Inv-A  Investigator of a (API key)
    //   DPR-A  Dataset Provider Rep. of a (JWT)  Ref-A  Referee of a (JWT)
    //   Res-A  Researcher of a (API key)      Inv-B  Investigator of b: a token for another project (JWT)
    //   Col    member of the appliance-wide Referee college with no project role (API key); Ref-A is not in the college
    //          (in the "referee" row PM-A has nominated Col Referee of a before Col's turn, but at Tier 3 the nomination
    //          waits for a Dataset Provider Representative's counter-approval, so Col still does not see a: 404)
    private const string Matrix = """
        method path                                               body           anon  exp   fkey  bkey  SM    PgM   PM-A  Inv-A DPR-A Ref-A Res-A Inv-B Col
        GET    /healthz                                           -              200   200   200   200   200   200   200   200   200   200   200   200   200
        GET    /readyz                                            -              200   200   200   200   200   200   200   200   200   200   200   200   200
        GET    /openapi/v1.json                                   -              200   200   200   200   200   200   200   200   200   200   200   200   200
        GET    /api/me                                            -              401   401   401   401   200   200   200   200   200   200   200   200   200
        GET    /api/policy                                        -              401   401   401   401   200   403   403   403   403   403   403   403   403
        PUT    /api/policy                                        policy         401   401   401   401   200   403   403   403   403   403   403   403   403
        GET    /api/allowlists/pypi                               -              401   401   401   401   200   403   403   403   403   403   403   403   200
        POST   /api/allowlists/pypi/entries                       entry          401   401   401   401   201   403   403   403   403   403   403   403   403
        POST   /api/allowlists/pypi/entries/pending-pkg/approve   decision       401   401   401   401   403   403   403   403   403   403   403   403   200
        POST   /api/allowlists/pypi/entries/pending-pkg/reject    decision       401   401   401   401   403   403   403   403   403   403   403   403   200
        DELETE /api/allowlists/pypi/entries/removable             -              401   401   401   401   204   403   403   403   403   403   403   403   403
        GET    /api/sync                                          -              401   401   401   401   200   200   403   403   403   403   403   403   403
        GET    /api/users                                         -              401   401   401   401   200   200   403   403   403   403   403   403   403
        GET    /api/audit                                         -              401   401   401   401   200   200   403   403   403   403   403   403   403
        GET    /api/audit/verify                                  -              401   401   401   401   200   403   403   403   403   403   403   403   403
        GET    /api/mirrors/pypi/closure                          -              401   401   401   401   200   200   403   403   403   403   403   403   403
        GET    /api/projects                                      -              401   401   401   401   200   200   200   200   200   200   200   200   200
        POST   /api/projects                                      project        401   401   401   401   403   201   403   403   403   403   403   403   403
        GET    /api/projects/a                                    -              401   401   401   401   200   200   200   200   200   200   200   404   404
        GET    /api/projects/b                                    -              401   401   401   401   200   200   404   404   404   404   404   200   404
        POST   /api/projects/a/members                            researcher     401   401   401   401   403   403   202   403   403   403   403   404   404
        POST   /api/projects/a/members                            investigator   401   401   401   401   403   202   403   403   403   403   403   404   404
        DELETE /api/projects/a/members/res2-a/Researcher          -              401   401   401   401   403   403   204   403   403   403   403   404   404
        POST   /api/projects/a/workpackages                       workpackage    401   401   401   401   403   403   201   201   403   403   403   404   404
        GET    /api/projects/a/workpackages/wp1                   -              401   401   401   401   200   200   200   200   200   200   200   404   404
        PUT    /api/projects/a/workpackages/wp1/classifications   classification 401   401   401   401   403   403   403   200   200   200   403   404   404
        GET    /api/college/referees                              -              401   401   401   401   200   200   200   200   200   200   200   200   200
        POST   /api/college/referees                              college        401   401   401   401   403   201   403   403   403   403   403   403   403
        DELETE /api/college/referees/col                          -              401   401   401   401   403   204   403   403   403   403   403   403   403
        POST   /api/projects/a/members                            referee        401   401   401   401   403   403   202   403   403   403   403   404   404
        GET    /api/projects/a/members/pending                    -              401   401   401   401   200   200   200   200   200   200   200   404   404
        POST   /api/projects/a/members/pending/waiting/Researcher/approve decision 401 401 401 401 403   403   403   403   200   403   403   404   404
        POST   /api/projects/a/members/pending/waiting/Researcher/reject  decision 401 401 401 401 403   403   403   403   204   403   403   404   404
        """;

    private static readonly Dictionary<string, string> Bodies = new()
    {
        ["policy"] = """{"minimumAgeDays": 3, "reason": "matrix"}""",
        ["entry"] = """{"name": "newpkg", "reason": "needed for analysis"}""",
        ["decision"] = """{"reason": "reviewed"}""",
        ["project"] = """{"name": "c", "title": "Project C"}""",
        ["researcher"] = """{"user": "newbie", "role": "Researcher"}""",
        ["investigator"] = """{"user": "newbie", "role": "Investigator"}""",
        ["workpackage"] = """{"name": "wp-{caller}", "title": "Second work package"}""",
        ["college"] = """{"user": "newbie"}""",
        ["referee"] = """{"user": "col", "role": "Referee"}""",
        ["classification"] = """{"tier": 2, "reason": "pseudonymised records"}""",
    };

    private static readonly string[] Callers = ["anon", "exp", "fkey", "bkey", "SM", "PgM", "PM-A", "Inv-A", "DPR-A", "Ref-A", "Res-A", "Inv-B", "Col"];

    public static TheoryData<string, string, string, string> Rows()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var line in Matrix.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1))
        {
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3 + Callers.Length, cells.Length);
            data.Add(cells[0], cells[1], cells[2], string.Join(' ', cells.Skip(3)));
        }
        return data;
    }

    /// <summary>
    /// One row: every caller in turn against one freshly seeded appliance. Refusals change nothing (checked below),
    /// and each row has at most one success that changes state, or successes that do not collide
    /// (<c>{caller}</c> in a body makes the name unique per caller).
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Endpoint_answers_every_caller_as_the_matrix_says(string method, string path, string body, string expectations)
    {
        await using var world = await SeededWorld.StartAsync();
        var expected = expectations.Split(' ').Select(e => int.Parse(e, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var wrong = new List<string>();
        for (var i = 0; i < Callers.Length; i++)
        {
            var caller = Callers[i];
            var json = body == "-" ? null : Bodies[body].Replace("{caller}", caller.ToLowerInvariant(), StringComparison.Ordinal);
            using var response = await world.Host.SendAsync(new HttpMethod(method), path, world.Credential(caller), json);
            var content = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status != expected[i])
            {
                wrong.Add($"{caller}: expected {expected[i]}, got {status}: {content}");
            }
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                wrong.Add($"{caller}: {status} is not a problem detail ({response.Content.Headers.ContentType})");
            }
            else if (status == 401 && !response.Headers.WwwAuthenticate.ToString().Contains("Bearer", StringComparison.Ordinal))
            {
                wrong.Add($"{caller}: 401 without a Bearer challenge");
            }
        }
        Assert.True(wrong.Count == 0, $"{method} {path}:\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public async Task Refused_changes_change_nothing_and_allowed_ones_are_audited()
    {
        await using var world = await SeededWorld.StartAsync();
        // The first request of an identity-provider user records that they were first seen; make it before counting.
        using (await world.Host.SendAsync(HttpMethod.Get, "/api/me", world.Credential("PgM"))) { }
        var before = await world.Host.Audit.QueryAsync(new AuditFilter(Limit: 1000), CancellationToken.None);

        using var refused = await world.Host.SendAsync(HttpMethod.Put, "/api/policy", world.Credential("PgM"), Bodies["policy"]);
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal(7, (int)world.Host.PolicyProvider.Current.Policy.MinimumAge.TotalDays);
        Assert.Equal(before.Count, (await world.Host.Audit.QueryAsync(new AuditFilter(Limit: 1000), CancellationToken.None)).Count);

        using var allowed = await world.Host.SendAsync(HttpMethod.Put, "/api/policy", world.Credential("SM"), Bodies["policy"]);
        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Equal(3, (int)world.Host.PolicyProvider.Current.Policy.MinimumAge.TotalDays);
        var last = (await world.Host.Audit.QueryAsync(new AuditFilter(Action: "policy.changed"), CancellationToken.None)).Single();
        Assert.Equal("sm", last.Actor);
        Assert.Equal("matrix", last.Details["reason"]);
    }

    [Fact]
    public async Task Mirror_endpoints_never_answer_401_even_with_bad_credentials()
    {
        await using var world = await SeededWorld.StartAsync();
        foreach (var caller in new[] { "anon", "exp", "fkey", "bkey" })
        {
            using var response = await world.Host.SendAsync(HttpMethod.Get, "/pypi/simple/", world.Credential(caller));
            Assert.NotEqual(401, (int)response.StatusCode);
            Assert.NotEqual(403, (int)response.StatusCode);
        }
    }

    private static readonly Lazy<TestIdentityProvider> Idp = new(() => new TestIdentityProvider(Directory.CreateTempSubdirectory("safehaven-idp-").FullName));
    private static readonly Lazy<RSA> OtherKey = new(() => RSA.Create(2048));

    /// <summary>One freshly seeded appliance and the credentials of every matrix caller.</summary>
    private sealed class SeededWorld : IAsyncDisposable
    {
        private readonly Dictionary<string, string?> _credentials = [];

        private SeededWorld(ManagementHost host) => Host = host;

        public ManagementHost Host { get; }

        public string? Credential(string caller) => _credentials[caller];

        public static async Task<SeededWorld> StartAsync()
        {
            var directory = Directory.CreateTempSubdirectory("safehaven-matrix-").FullName;
            var idp = Idp.Value;
            var allowlist = Path.Combine(directory, "pypi.txt");
            await File.WriteAllTextAsync(allowlist, "# approved by the Referee college\nfilepkg\n");
            var settings = new Dictionary<string, string>(idp.Settings)
            {
                ["SafeHaven:Tier"] = "3",
                ["SafeHaven:Policy:AllowlistFiles:pypi"] = allowlist,
            };
            var host = await ManagementHost.StartAsync(settings, Path.Combine(directory, "data"));
            var world = new SeededWorld(host);
            var ct = CancellationToken.None;

            await host.Projects.CreateProjectAsync(new ProjectRecord("a", "Project A", DateTimeOffset.UtcNow, "pgm"), AuditRecord.Of("pgm", "project.created", "a", "a"), ct);
            await host.Projects.CreateProjectAsync(new ProjectRecord("b", "Project B", DateTimeOffset.UtcNow, "pgm"), AuditRecord.Of("pgm", "project.created", "b", "b"), ct);
            await host.Projects.CreateWorkPackageAsync(new WorkPackageRecord("a", "wp1", "First", DateTimeOffset.UtcNow, "pm-a"), AuditRecord.Of("pm-a", "workpackage.created", "a/wp1", "a"), ct);

            world._credentials["anon"] = null;
            world._credentials["SM"] = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
            world._credentials["Inv-A"] = await host.AddUserWithKeyAsync("inv-a", (Role.Investigator, "a"));
            world._credentials["Res-A"] = await host.AddUserWithKeyAsync("res-a", (Role.Researcher, "a"));
            world._credentials["Col"] = await host.AddUserWithKeyAsync("col", (Role.CollegeReferee, null));
            await host.Users.AddUserAsync("newbie", AuditRecord.Of("test", "user.created", "newbie"), ct);
            await host.AddUserWithKeyAsync("res2-a", (Role.Researcher, "a"));
            await host.Users.AddUserAsync("waiting", AuditRecord.Of("test", "user.created", "waiting"), ct);
            await host.Projects.ProposeMembershipAsync(new PendingMembership("a", "waiting", Role.Researcher, DateTimeOffset.UtcNow, "pm-a"),
                AuditRecord.Of("pm-a", "project.member.proposed", "waiting", "a", ("role", "Researcher")), ct);
            world._credentials["bkey"] = "shk_000000000000_" + new string('A', 43);

            world._credentials["PgM"] = idp.Token("pgm", ["ProgrammeManager"]);
            world._credentials["PM-A"] = idp.Token("pm-a", ["a/ProjectManager"]);
            world._credentials["DPR-A"] = idp.Token("dpr-a", ["a/DatasetProviderRepresentative"]);
            world._credentials["Ref-A"] = idp.Token("ref-a", ["a/Referee"]);
            world._credentials["Inv-B"] = idp.Token("inv-b", ["b/Investigator"]);
            world._credentials["exp"] = idp.Token("sm2", ["SystemManager"], lifetime: TimeSpan.FromMinutes(-10));
            world._credentials["fkey"] = idp.Token("sm2", ["SystemManager"], signWith: OtherKey.Value);

            await host.Policy.AddAllowlistEntryAsync(new AllowlistEntryRecord("pypi", "pending-pkg", "pending-pkg", "sm", "wanted", DateTimeOffset.UtcNow, AllowlistEntryStatus.Pending, null, null, null),
                AuditRecord.Of("sm", "allowlist.entry.added", "pypi/pending-pkg"), ct);
            await host.Policy.AddAllowlistEntryAsync(new AllowlistEntryRecord("pypi", "removable", "removable", "sm", "wanted", DateTimeOffset.UtcNow, AllowlistEntryStatus.Approved, "ref-a", "ok", DateTimeOffset.UtcNow),
                AuditRecord.Of("sm", "allowlist.entry.added", "pypi/removable"), ct);
            host.PolicyProvider.Refresh();
            host.Services.GetRequiredService<AllowlistClosureRegistry>().Publish(new AllowlistClosure("pypi", DateTimeOffset.UtcNow, ["filepkg", "removable"],
                ["filepkg", "removable"], [], new Dictionary<string, IReadOnlySet<string>>()));
            return world;
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            try
            {
                Directory.Delete(Path.GetDirectoryName(Host.DataDirectory)!, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
