using System.Net;
using System.Net.Sockets;

namespace SafeHaven.EndToEnd.Tests.Support;

public static class Ports
{
    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitForHttpAsync(Uri url, TimeSpan timeout, Func<HttpResponseMessage, bool>? ready = null, Func<string>? diagnostics = null)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(url);
                if (ready?.Invoke(response) ?? response.IsSuccessStatusCode)
                {
                    return;
                }
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException e)
            {
                // One probe not answered within its 5 s (a loaded machine, a process still starting): ask again.
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} not ready within {timeout}: {last}\n{diagnostics?.Invoke()}");
    }
}
