using SafeHaven.Gateway.Ecosystems.PyPI;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class DistributionFilenameTests
{
    // Wheel names: {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl (PEP 427 / 491).
    [Theory]
    [InlineData("requests-2.31.0-py3-none-any.whl", "requests", "2.31.0")]
    [InlineData("typing_extensions-4.9.0-py3-none-any.whl", "typing-extensions", "4.9.0")]
    [InlineData("zope.interface-6.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "zope-interface", "6.1")]
    [InlineData("numpy-1.26.4-cp312-cp312-macosx_11_0_arm64.whl", "numpy", "1.26.4")]
    [InlineData("Django-4.2.7-py3-none-any.whl", "django", "4.2.7")]
    [InlineData("jaraco.classes-3.3.0-py3-none-any.whl", "jaraco-classes", "3.3.0")]
    [InlineData("python_dateutil-2.9.0.post0-py2.py3-none-any.whl", "python-dateutil", "2.9.0.post0")]
    [InlineData("torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl", "torch", "2.1.0+cpu")]
    [InlineData("pywin32-306-cp311-cp311-win_amd64.whl", "pywin32", "306")]
    [InlineData("tensorflow-2.15.0rc1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "tensorflow", "2.15.0rc1")]
    [InlineData("foo-1.0-1-py3-none-any.whl", "foo", "1.0")]                    // build tag
    [InlineData("foo-1.0-1build2-py3-none-any.whl", "foo", "1.0")]
    [InlineData("REQUESTS-2.31.0-PY3-NONE-ANY.WHL", "requests", "2.31.0")]
    public void Wheels(string filename, string project, string version)
    {
        Assert.True(DistributionFilename.IsWheel(filename));
        Assert.False(DistributionFilename.IsSdist(filename));
        Assert.Equal(version, DistributionFilename.TryGetVersion(filename, project));
    }

    [Theory]
    [InlineData("requests-2.31.0-py3-none-any.whl", "urllib3")]
    [InlineData("requests_toolbelt-1.0.0-py2.py3-none-any.whl", "requests")]
    [InlineData("requests-2.31.0-py3-any.whl", "requests")]                  // a tag missing
    [InlineData("requests-2.31.0-1-2-py3-none-any.whl", "requests")]         // too many parts
    [InlineData("requests.whl", "requests")]
    [InlineData(".whl", "requests")]
    public void WheelsOfOtherProjectsOrMalformed(string filename, string project)
    {
        Assert.Null(DistributionFilename.TryGetVersion(filename, project));
    }

    // Source distributions: {name}-{version}.{ext}; before PEP 625 the name kept its dashes and dots.
    [Theory]
    [InlineData("requests-2.31.0.tar.gz", "requests", "2.31.0")]
    [InlineData("python-dateutil-2.8.2.tar.gz", "python-dateutil", "2.8.2")]
    [InlineData("python_dateutil-2.9.0.post0.tar.gz", "python-dateutil", "2.9.0.post0")]
    [InlineData("zope.interface-6.1.tar.gz", "zope-interface", "6.1")]
    [InlineData("backports.zoneinfo-0.2.1.tar.gz", "backports-zoneinfo", "0.2.1")]
    [InlineData("Django-4.2.7.tar.gz", "django", "4.2.7")]
    [InlineData("scikit-learn-1.3.2.tar.gz", "scikit-learn", "1.3.2")]
    [InlineData("scikit_learn-1.5.0.tar.gz", "scikit-learn", "1.5.0")]
    [InlineData("azure-mgmt-resource-23.0.1.zip", "azure-mgmt-resource", "23.0.1")]
    [InlineData("numpy-1.16.6.zip", "numpy", "1.16.6")]
    [InlineData("pytz-2013b.tar.bz2", "pytz", "2013b")]
    [InlineData("foo-1.0.tgz", "foo", "1.0")]
    [InlineData("foo-1.0.tar.xz", "foo", "1.0")]
    [InlineData("foo-1.0.tar", "foo", "1.0")]
    [InlineData("foo-1.0.tbz", "foo", "1.0")]
    [InlineData("foo-1.0-1.tar.gz", "foo", "1.0-1")]          // legacy post-release spelling, PEP 440 valid
    [InlineData("foo-bar-1.0.tar.gz", "foo-bar", "1.0")]
    [InlineData("Foo_Bar-1.0.TAR.GZ", "foo-bar", "1.0")]
    [InlineData("pkg-1!2.0.tar.gz", "pkg", "1!2.0")]
    public void Sdists(string filename, string project, string version)
    {
        Assert.True(DistributionFilename.IsSdist(filename));
        Assert.False(DistributionFilename.IsWheel(filename));
        Assert.Equal(version, DistributionFilename.TryGetVersion(filename, project));
    }

    [Theory]
    [InlineData("requests-2.31.0.tar.gz", "urllib3")]
    [InlineData("requests-toolbelt-1.0.0.tar.gz", "requests-toolbelt-1")]
    [InlineData("requests.tar.gz", "requests")]         // no version
    [InlineData("requests-.tar.gz", "requests")]        // empty version
    [InlineData("-1.0.tar.gz", "")]
    [InlineData(".tar.gz", "requests")]
    public void SdistsOfOtherProjectsOrMalformed(string filename, string project)
    {
        Assert.Null(DistributionFilename.TryGetVersion(filename, project));
    }

    // Eggs: {name}-{version}-py{X.Y}(-{platform})?.egg
    [Theory]
    [InlineData("setuptools-0.6c11-py2.7.egg", "setuptools", "0.6c11")]
    [InlineData("pyobjc_core-2.5.1-py2.7-macosx-10.8-intel.egg", "pyobjc-core", "2.5.1")]
    [InlineData("Twisted-12.0.0-py2.7-win32.egg", "twisted", "12.0.0")]
    public void Eggs(string filename, string project, string version)
    {
        Assert.False(DistributionFilename.IsWheel(filename));
        Assert.Equal(version, DistributionFilename.TryGetVersion(filename, project));
    }

    [Theory]
    [InlineData("setuptools-0.6c11.egg", "setuptools")]                // no python tag
    [InlineData("setuptools-0.6c11-py2.7.egg", "distribute")]
    public void EggsOfOtherProjectsOrMalformed(string filename, string project)
    {
        Assert.Null(DistributionFilename.TryGetVersion(filename, project));
    }

    [Theory]
    [InlineData("")]
    [InlineData("README.md")]
    [InlineData("requests-2.31.0.exe")]                               // bdist_wininst
    [InlineData("pywin32-306.win-amd64-py3.11.exe")]
    [InlineData("requests-2.31.0.msi")]
    [InlineData("requests-2.31.0-1.noarch.rpm")]
    [InlineData("requests-2.31.0-py3-none-any.whl.metadata")]        // a PEP 658 metadata file, not a distribution
    [InlineData("requests-2.31.0.tar.gz.asc")]                       // a detached signature
    [InlineData("requests-2.31.0.dmg")]
    public void JunkHasNoVersion(string filename)
    {
        Assert.False(DistributionFilename.IsWheel(filename));
        Assert.False(DistributionFilename.IsSdist(filename));
        Assert.Null(DistributionFilename.TryGetVersion(filename, "requests"));
        Assert.Null(DistributionFilename.TryGetVersion(filename, "pywin32"));
    }
}
