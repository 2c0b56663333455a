using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using SafeHaven.Core.Storage;

namespace SafeHaven.Gateway.Http;

/// <summary>
/// A full disk anywhere below an endpoint (an index or a fact that could not be stored) answers 507 with the reason,
/// never a generic 500. A response already under way cannot change its status: it is aborted, as any failure then is.
/// </summary>
public sealed class StorageFullExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!StorageFull.Is(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }
        var reason = exception is StorageFullException ? exception.Message : $"the appliance's storage is full: {exception.Message}";
        await PolicyResponses.InsufficientStorage(reason).ExecuteAsync(httpContext).ConfigureAwait(false);
        return true;
    }
}
