using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Airlock;

/// <summary>
/// The web fixture plus what the airlock pages need: in project <see cref="WebUsers.Project"/>, work package
/// <see cref="Tier3"/> classified at Tier 3 and <see cref="Tier1"/> at Tier 1 by API-key classifiers (so the people
/// signing in through the identity provider have signed nothing yet), and an API-key Researcher
/// (<see cref="Opener"/>) who opens submissions: the reviewers in the browser never review their own.
/// </summary>
public sealed class AirlockWebFixture : WebApplianceFixture, IAsyncLifetime
{
    /// <summary>The collection every airlock page test belongs to: one appliance, provider and browser for all of them.</summary>
    public const string Collection = "airlock-web";

    public const string Tier3 = "wp3";
    public const string Tier1 = "wp1";

    private readonly Dictionary<string, string> _keys = [];

    /// <summary>The Dataset Provider Representative signs in through the provider and is also in the store (below): linked.</summary>
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["Auth:Jwt:LinkedUsers:0"] = WebUsers.DatasetProvider,
    };

    /// <summary>The Researcher (API key) who opens every submission of these tests.</summary>
    public HttpClient Opener { get; private set; } = null!;

    /// <summary>An Investigator by API key (signs off where the browser is not under test).</summary>
    public HttpClient Investigator { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        foreach (var (user, role) in new[] { ("k-res", "Researcher"), ("k-inv", "Investigator"), ("k-dpr", "DatasetProviderRepresentative"), ("k-ref", "Referee"), ("k-pm", "ProjectManager") })
        {
            var result = await Appliance.RunCliAsync("users", "add", user, "--role", role, "--project", WebUsers.Project);
            Assert.True(result.ExitCode == 0, $"safehaven users add {user}: {result.Output}");
            _keys[user] = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("shk_", StringComparison.Ordinal));
        }
        // The identity provider's Dataset Provider Representative is also in the store with that project role: data
        // ingress names its depositor among the store's representatives (the workflow checks the store, not a token).
        var dora = await Appliance.RunCliAsync("users", "add", WebUsers.DatasetProvider, "--role", "DatasetProviderRepresentative", "--project", WebUsers.Project);
        Assert.True(dora.ExitCode == 0, dora.Output);
        Opener = Client("k-res");
        Investigator = Client("k-inv");
        foreach (var (workPackage, tier, classifiers) in new[] { (Tier3, 3, new[] { "k-inv", "k-dpr", "k-ref" }), (Tier1, 1, new[] { "k-inv", "k-dpr" }) })
        {
            await OkAsync(await Client("k-pm").PostAsJsonAsync($"api/projects/{WebUsers.Project}/workpackages", new { name = workPackage, title = $"Tier {tier} work" }));
            foreach (var classifier in classifiers)
            {
                await OkAsync(await Client(classifier).PutAsJsonAsync($"api/projects/{WebUsers.Project}/workpackages/{workPackage}/classifications",
                    new { tier, reason = $"tier {tier} for the browser tests" }));
            }
        }
    }

    public HttpClient Client(string user)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _keys[user]);
        return client;
    }

    public static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(string.IsNullOrEmpty(text) ? "{}" : text)!;
    }

    /// <summary>Opens a submission as <see cref="Opener"/>: its id, deposit token and the deposit page the API points the depositor at.</summary>
    public async Task<(string Id, string Token, string DepositPage)> OpenAsync(string kind, string workPackage, string? script = null, string? depositor = null, HttpClient? opener = null)
    {
        var opened = await OkAsync(await (opener ?? Opener).PostAsJsonAsync("api/airlock/submissions", new { project = WebUsers.Project, workPackage, kind, script, depositor }));
        return (opened["submission"]!["id"]!.GetValue<string>(), opened["depositToken"]!.GetValue<string>(), opened["depositPage"]!.GetValue<string>());
    }

    /// <summary>Deposits files through the anonymous deposit API (as the CLI does), marks the transfer complete and waits for the inspection.</summary>
    public async Task DepositAsync(string id, string token, IReadOnlyDictionary<string, byte[]> files, string until = "in_review")
    {
        using var deposit = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl };
        deposit.DefaultRequestHeaders.Add("X-SafeHaven-Deposit-Token", token);
        foreach (var (path, content) in files)
        {
            var begun = await OkAsync(await deposit.PostAsJsonAsync("airlock/deposit/uploads",
                new { path, size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize = 64 * 1024 }));
            var upload = begun["uploadId"]!.GetValue<string>();
            for (var i = 0; i * 65536 < content.Length; i++)
            {
                var chunk = content.AsMemory(i * 65536, Math.Min(65536, content.Length - (i * 65536))).ToArray();
                using var body = new ByteArrayContent(chunk);
                body.Headers.Add("X-Chunk-SHA256", Convert.ToHexStringLower(SHA256.HashData(chunk)));
                await OkAsync(await deposit.PutAsync($"airlock/deposit/uploads/{upload}/chunks/{i}", body));
            }
            await OkAsync(await deposit.PostAsync($"airlock/deposit/uploads/{upload}/complete", null));
        }
        await OkAsync(await deposit.PostAsync("airlock/deposit/complete", null));
        await WaitForStateAsync(id, until);
    }

    public async Task<JsonNode> WaitForStateAsync(string id, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var details = await OkAsync(await Opener.GetAsync($"api/airlock/submissions/{id}"));
            if (details["state"]!.GetValue<string>() == state)
            {
                return details;
            }
            Assert.True(DateTime.UtcNow < deadline, $"submission {id} stayed {details["state"]} ({details["stateReason"]}), expected {state}");
            await Task.Delay(200);
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        Opener?.Dispose();
        Investigator?.Dispose();
        await DisposeAsync();
    }
}

[CollectionDefinition(AirlockWebFixture.Collection)]
public sealed class AirlockWebCollection : ICollectionFixture<AirlockWebFixture>;
