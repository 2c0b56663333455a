using System.Text;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Airlock;

/// <summary>
/// Depositors without an account, in a real browser: a folder through the one-time deposit link (token in the URL
/// fragment), cut off mid-way, resumed after a reload without sending a stored chunk again, completed, and the verdict
/// shown; released outputs listed and downloaded through the time-limited release link.
/// </summary>
[Collection(AirlockWebFixture.Collection)]
public sealed class AirlockDepositTests(AirlockWebFixture web)
{
    private const string ChunkUrls = "**/airlock/deposit/uploads/*/chunks/*";

    [Fact]
    public async Task A_depositor_uploads_a_folder_that_survives_a_reload_and_sees_the_verdict()
    {
        var (id, token, depositPage) = await web.OpenAsync("software_ingress", AirlockWebFixture.Tier3);
        Assert.Equal("/airlock/deposits#" + token, depositPage);

        // A folder as a researcher's package arrives: files at two depths, sizes spanning several 64 KiB chunks.
        var folder = Directory.CreateTempSubdirectory("deposit-");
        var root = Directory.CreateDirectory(Path.Combine(folder.FullName, "package"));
        Directory.CreateDirectory(Path.Combine(root.FullName, "sub"));
        var contents = new Dictionary<string, byte[]>
        {
            ["package/a.txt"] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_480).Select(i => $"{i % 1000,9}\n"))), // 204800 bytes: 4 chunks
            ["package/sub/b.csv"] = Encoding.UTF8.GetBytes("x,y\n" + string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i % 1000,4},{i % 7}\n"))), // 140004 bytes: 3 chunks
            ["package/sub/c.dat"] = [.. Enumerable.Range(0, 102_400).Select(i => (byte)('a' + (i % 26)))], // 2 chunks
        };
        foreach (var (path, bytes) in contents)
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, path), bytes);
        }
        var totalChunks = contents.Values.Sum(c => (c.Length + 65535) / 65536);
        const int beforeCut = 5;

        var page = await web.NewPageAsync();
        var first = new List<string>();
        var second = new List<string>();
        var cut = true;
        await page.RouteAsync(ChunkUrls, async route =>
        {
            var path = new Uri(route.Request.Url).AbsolutePath;
            lock (first)
            {
                if (cut && first.Count >= beforeCut)
                {
                    path = null;
                }
                else
                {
                    (cut ? first : second).Add(path);
                }
            }
            if (path is null)
            {
                await route.AbortAsync("connectionreset");
            }
            else
            {
                await route.ContinueAsync();
            }
        });

        await page.GotoAsync(web.Url(depositPage));
        await Expect(page, "#deposit-status", "Ready");
        Assert.Equal("Software for the project", await page.InnerTextAsync("#deposit-kind"));
        await web.AssertAccessibleAsync(page);
        await page.SetInputFilesAsync("#pick-folder", root.FullName);
        await Expect(page, "#deposit-status", "The connection dropped");
        Assert.Equal(beforeCut, first.Count);
        await Screenshots.SaveAsync(page, "airlock-deposit-interrupted");

        cut = false;
        await page.ReloadAsync();
        await Expect(page, "#deposit-status", "Ready");
        await page.SetInputFilesAsync("#pick-folder", root.FullName);
        await page.WaitForSelectorAsync("#finish:not([disabled])");
        Assert.Equal(totalChunks - beforeCut, second.Count);
        Assert.Empty(first.Intersect(second));
        Assert.Equal(3, await page.Locator("#file-list li.done").CountAsync());
        Assert.Contains("resumed", await page.InnerTextAsync("#file-list"));
        foreach (var progress in await page.Locator("#file-list progress").AllAsync())
        {
            Assert.Equal(await progress.GetAttributeAsync("max"), await progress.EvaluateAsync<string>("p => String(p.value)"));
        }
        await web.AssertAccessibleAsync(page);
        await Screenshots.SaveAsync(page, "airlock-deposit");

        await page.ClickAsync("#finish");
        await page.WaitForSelectorAsync("#verdict[data-state=in_review]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        Assert.StartsWith("Inspection passed", await page.InnerTextAsync("#verdict"));
        await web.AssertAccessibleAsync(page);

        // What arrived is the folder, byte for byte (the appliance's SHA-256 per file).
        var details = await AirlockWebFixture.OkAsync(await web.Opener.GetAsync($"api/airlock/submissions/{id}"));
        Assert.Equal("in_review", details["state"]!.GetValue<string>());
        var rex = await web.NewPageAsync();
        await web.SignInAsync(rex, WebUsers.Referee);
        await rex.GotoAsync(web.Url($"airlock/submissions/{id}"));
        var listed = await rex.InnerTextAsync("#files");
        foreach (var (path, bytes) in contents)
        {
            Assert.Contains($"{path}\t{bytes.Length}\t{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))}", listed);
        }

        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
        await rex.Context.CloseAsync();
        folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Released_outputs_are_listed_and_downloaded_through_the_release_link()
    {
        var (id, token, _) = await web.OpenAsync("egress", AirlockWebFixture.Tier1, script: "analysis.py");
        var outputs = new Dictionary<string, byte[]>
        {
            ["analysis.py"] = Encoding.UTF8.GetBytes("import pandas\nprint('summary')\n"),
            ["results/summary.csv"] = Encoding.UTF8.GetBytes("group,n\nA,12\nB,15\n"),
        };
        await web.DepositAsync(id, token, outputs);
        await AirlockWebFixture.OkAsync(await web.Investigator.PostAsync($"api/airlock/submissions/{id}/reviews",
            JsonContent("""{"decision":"approve","reason":"aggregate counts above 10"}""")));
        await web.WaitForStateAsync(id, "approved");
        var released = await AirlockWebFixture.OkAsync(await web.Investigator.PostAsync($"api/airlock/submissions/{id}/release",
            JsonContent("""{"reason":"for the funder's report","hours":2}""")));
        var releasePage = released["releasePage"]!.GetValue<string>();
        Assert.Equal("/airlock/released#" + released["releaseToken"]!.GetValue<string>(), releasePage);

        var page = await web.NewPageAsync();
        await page.GotoAsync(web.Url(releasePage));
        await Expect(page, "#release-status", "2 file(s) released");
        Assert.Equal(2, await page.Locator("#released tbody tr").CountAsync());
        await web.AssertAccessibleAsync(page);
        await Screenshots.SaveAsync(page, "airlock-released");
        var download = page.WaitForDownloadAsync();
        await page.ClickAsync("button[aria-label='Download results/summary.csv']");
        var saved = await (await download).PathAsync();
        Assert.Equal(outputs["results/summary.csv"], await File.ReadAllBytesAsync(saved));
        await Expect(page, "#release-status", "its SHA-256 matches");

        // A wrong token shows the API's refusal, and nothing is listed.
        await page.GotoAsync(web.Url("airlock/released#shr_not-a-token"));
        await page.ReloadAsync();
        await Expect(page, "#release-status", "cannot be used");
        Assert.True(await page.IsHiddenAsync("#released"));

        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_data_depositor_confirms_the_sha256_of_each_file_computed_from_their_own_copies()
    {
        using var manager = web.Client("k-pm");
        var agreement = Encoding.UTF8.GetBytes("Data-sharing agreement, signed.");
        using (var body = new ByteArrayContent(agreement))
        {
            body.Headers.Add("X-Content-SHA256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(agreement)));
            var stored = await manager.PutAsync($"api/airlock/projects/{WebUsers.Project}/workpackages/{AirlockWebFixture.Tier3}/agreement/dsa.txt", body);
            Assert.True(stored.IsSuccessStatusCode || stored.StatusCode == System.Net.HttpStatusCode.Conflict, await stored.Content.ReadAsStringAsync());
        }
        var (id, token, _) = await web.OpenAsync("data_ingress", AirlockWebFixture.Tier3, depositor: WebUsers.DatasetProvider, opener: manager);
        var folder = Directory.CreateTempSubdirectory("cohort-");
        var root = Directory.CreateDirectory(Path.Combine(folder.FullName, "cohort"));
        var files = new Dictionary<string, byte[]>
        {
            ["cohort/visits.csv"] = Encoding.UTF8.GetBytes("id,visit\n1,2024-01-03\n2,2024-02-11\n"),
            ["cohort/codebook.txt"] = Encoding.UTF8.GetBytes("id: pseudonymous identifier\nvisit: date of visit\n"),
        };
        foreach (var (path, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, path), bytes);
        }
        await web.DepositAsync(id, token, files);

        var dora = await web.NewPageAsync();
        await web.SignInAsync(dora, WebUsers.DatasetProvider);
        await dora.GotoAsync(web.Url("airlock"));
        await dora.ClickAsync($"#awaiting a[href='/airlock/submissions/{id}/confirm']");
        Assert.Equal("Confirm the SHA-256 of your deposit", await dora.InnerTextAsync("h1"));
        await web.AssertAccessibleAsync(dora);

        // Nothing entered: refused on the form, nothing recorded.
        var empty = dora.WaitForResponseAsync(r => r.Request.Method == "POST");
        await dora.ClickAsync("#confirm-submit");
        Assert.Equal(400, (await empty).Status);
        Assert.Contains("Enter your SHA-256 for every file", await dora.InnerTextAsync("#refused"));

        await dora.SetInputFilesAsync("#local-files", root.FullName);
        await Expect(dora, "#local-status", "2 of 2 SHA-256 filled in");
        await Screenshots.SaveAsync(dora, "airlock-confirm-hashes");
        await dora.ClickAsync("#confirm-submit");
        await dora.WaitForURLAsync(url => url.EndsWith($"/airlock/submissions/{id}", StringComparison.Ordinal));
        Assert.Contains("Your SHA-256 confirmation is recorded", await dora.InnerTextAsync("#recorded"));
        var details = await AirlockWebFixture.OkAsync(await manager.GetAsync($"api/airlock/submissions/{id}"));
        Assert.Equal(WebUsers.DatasetProvider, details["hashConfirmedBy"]!.GetValue<string>());
        Assert.DoesNotContain("the depositor's SHA-256 confirmation", details["missingForApproval"]!.ToJsonString());

        web.AssertNoCspViolations(dora);
        await dora.Context.CloseAsync();
        folder.Delete(recursive: true);
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task Expect(IPage page, string selector, string text) =>
        await page.WaitForFunctionAsync("([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)", new object[] { selector, text },
            new PageWaitForFunctionOptions { Timeout = 20_000 });
}
