using SafeHaven.Tests.Support;

namespace SafeHaven.Web.Tests.Support;

/// <summary>Paths in the repository the tests run from (the tools under tests/tools, docs/screenshots).</summary>
public static class Repository
{
    public static string Root => RepositoryRoot.Path;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The npm tools of the web tests (oidc-provider, axe-core), installed by tests/run.sh.</summary>
    public static string OidcTools
    {
        get
        {
            var tools = Path("tests", "tools", "oidc");
            return Directory.Exists(System.IO.Path.Combine(tools, "node_modules", "oidc-provider"))
                ? tools
                : throw new InvalidOperationException($"Install the web tests' npm tools first: npm ci --prefix {tools}");
        }
    }
}
