using System.Net;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Support;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>
/// Marking a transfer complete as a depositor does now: the call answers 202 at once with a <c>Location</c>, and the
/// depositor polls it with the same (used-up) deposit token until the inspection has a verdict.
/// </summary>
internal static class DepositStatus
{
    private static CancellationToken Ct => TestContext.Token;

    /// <summary>POST <c>airlock/deposit/complete</c>: asserts the 202 and its Location; returns the body (submitted or scanning).</summary>
    public static async Task<JsonNode> CompleteAsync(HttpClient anonymous, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "airlock/deposit/complete");
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        using var response = await anonymous.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        Assert.Equal(AirlockEndpoints.DepositStatusPath, response.Headers.Location?.OriginalString);
        var body = JsonNode.Parse(text)!;
        Assert.Contains(body["state"]!.GetValue<string>(), new[] { "submitted", "scanning", "in_review", "approved", "blocked", "failed" });
        return body;
    }

    /// <summary>GET the deposit status with the deposit token.</summary>
    public static async Task<JsonNode> ReadAsync(HttpClient anonymous, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, AirlockEndpoints.DepositStatusPath.TrimStart('/'));
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        using var response = await anonymous.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Polls the deposit status until the submission has left submitted and scanning; returns that status.</summary>
    public static async Task<JsonNode> SettledAsync(HttpClient anonymous, string token, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await ReadAsync(anonymous, token);
            var state = status["state"]!.GetValue<string>();
            if (state is not ("submitted" or "scanning"))
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {state} after {within ?? TimeSpan.FromSeconds(60)}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>
    /// Polls until the submission is in <paramref name="state"/> (or has settled elsewhere): at a tier that needs no
    /// sign-off the approval is a second step after <c>in_review</c>, so a poll can land between the two.
    /// </summary>
    public static async Task<string> WaitForAsync(HttpClient anonymous, string token, string state, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var now = (await SettledAsync(anonymous, token, within))["state"]!.GetValue<string>();
            if (now == state || now != "in_review" || DateTime.UtcNow >= deadline)
            {
                return now;
            }
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Marks the transfer complete and waits for the inspection's verdict; returns the settled state.</summary>
    public static async Task<string> SubmitAndWaitAsync(HttpClient anonymous, string token, TimeSpan? within = null)
    {
        await CompleteAsync(anonymous, token);
        return (await SettledAsync(anonymous, token, within))["state"]!.GetValue<string>();
    }
}
