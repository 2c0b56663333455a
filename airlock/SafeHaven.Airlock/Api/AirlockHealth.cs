using SafeHaven.Gateway.Health;

namespace SafeHaven.Airlock.Api;

/// <summary>
/// The airlock's section of <c>/healthz</c>: the last integrity re-verification, and every mismatch as a problem
/// (which makes the appliance <c>degraded</c>). <c>/healthz/airlock</c> answers the same section alone.
/// </summary>
internal sealed class AirlockHealth(AirlockIntegrityStatus status) : IHealthContributor
{
    public ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        var (section, problems) = status.Health();
        return ValueTask.FromResult(new HealthSection("airlock", section, problems));
    }
}
