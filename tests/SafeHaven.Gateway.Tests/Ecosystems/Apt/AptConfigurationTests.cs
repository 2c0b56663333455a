using SafeHaven.Core.Configuration;
using SafeHaven.Gateway.Ecosystems.Apt;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt;

/// <summary><c>SafeHaven:Mirrors:apt:Repositories:&lt;name&gt;:...</c> checked at start, each problem named by its key.</summary>
public sealed class AptConfigurationTests
{
    private static MirrorOptions Mirror(string name, AptRepositoryOptions repository) =>
        new() { Repositories = new Dictionary<string, AptRepositoryOptions>(StringComparer.Ordinal) { [name] = repository } };

    [Fact]
    public void Every_problem_is_named_by_its_configuration_key()
    {
        var problems = AptConfiguration.Validate(Mirror("Debian Main", new AptRepositoryOptions
        {
            Upstream = "ftp://deb.upstream.example/debian",
            Suites = ["../etc"],
            Architectures = ["AMD64"],
            UpstreamKeyring = "/nonexistent/keyring.gpg",
        })).ToList();

        Assert.Contains(problems, p => p.StartsWith("SafeHaven:Mirrors:apt:Repositories:Debian Main: the name is a URL path segment", StringComparison.Ordinal));
        Assert.Contains("SafeHaven:Mirrors:apt:Repositories:Debian Main:Upstream: 'ftp://deb.upstream.example/debian' is not an absolute http(s) URL", problems);
        Assert.Contains("SafeHaven:Mirrors:apt:Repositories:Debian Main:Suites: '../etc' is not a suite name", problems);
        Assert.Contains("SafeHaven:Mirrors:apt:Repositories:Debian Main:Architectures: 'AMD64' is not a Debian architecture name", problems);
        Assert.Contains("SafeHaven:Mirrors:apt:Repositories:Debian Main:UpstreamKeyring: /nonexistent/keyring.gpg does not exist", problems);
    }

    [Fact]
    public void A_keyring_is_required_and_an_empty_mirror_is_refused()
    {
        Assert.Contains(AptConfiguration.Validate(Mirror("debian", new AptRepositoryOptions { Upstream = "http://deb.upstream.example/debian/", Suites = ["bookworm"] })),
            p => p.StartsWith("SafeHaven:Mirrors:apt:Repositories:debian:UpstreamKeyring: required", StringComparison.Ordinal));
        Assert.Contains(AptConfiguration.Validate(new MirrorOptions()),
            p => p.StartsWith("SafeHaven:Mirrors:apt:Repositories: at least one repository is required", StringComparison.Ordinal));
        Assert.Contains(AptConfiguration.Validate(new MirrorOptions { Upstream = "http://deb.upstream.example/debian/" }),
            p => p.StartsWith("SafeHaven:Mirrors:apt:Upstream: not used by apt", StringComparison.Ordinal));
    }

    [Fact]
    public void A_keyring_that_is_not_OpenPGP_is_refused_with_the_reason()
    {
        var keyring = Path.GetTempFileName();
        try
        {
            File.WriteAllText(keyring, "not a key\n");
            var problems = AptConfiguration.Validate(Mirror("debian", new AptRepositoryOptions
            {
                Upstream = "http://deb.upstream.example/debian/", Suites = ["bookworm"], UpstreamKeyring = keyring,
            })).ToList();
            Assert.Contains(problems, p => p.StartsWith($"SafeHaven:Mirrors:apt:Repositories:debian:UpstreamKeyring: {keyring} is not a usable OpenPGP keyring: ", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(keyring);
        }
    }

    [Fact]
    public void Lists_take_items_or_comma_separated_values_and_defaults()
    {
        var repository = new AptRepositoryOptions { Suites = ["bookworm, bookworm-updates", "bookworm"], Components = [], Architectures = ["arm64 amd64"] };

        Assert.Equal(["bookworm", "bookworm-updates"], AptConfiguration.Values(repository.Suites));
        Assert.Equal(["main"], AptConfiguration.Values(repository.Components, "main"));
        Assert.Equal(["arm64", "amd64"], AptConfiguration.Values(repository.Architectures, "amd64"));
    }
}
