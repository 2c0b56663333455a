namespace SafeHaven.Web.Tests.Support;

/// <summary>
/// The test classes that share one <see cref="WebApplianceFixture"/> (one appliance, one identity provider, one
/// Chromium): they run one after another, which keeps a 2-core machine from starting a browser and an appliance per class.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebApplianceFixture>
{
    public const string Name = "web";
}
