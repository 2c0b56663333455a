using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>
/// conda MatchSpecs in the forms real repodata <c>depends</c>/<c>constrains</c> and user specs use, read as rattler
/// reads them in lenient mode (rattler's npm package has no MatchSpec binding, so these cases follow its parser's
/// documented and tested behaviour; the version parts are checked against rattler by the version-spec tests).
/// </summary>
public sealed class CondaMatchSpecTests
{
    // spec, name, version spec text (null: any), build (null: any), channel, subdir
    public static readonly TheoryData<string, string, string?, string?, string?, string?> ParseCases = new()
    {
        { "numpy", "numpy", null, null, null, null },
        { "NumPy >=1.21", "numpy", ">=1.21", null, null, null },
        { "numpy 1.21.*", "numpy", "1.21.*", null, null, null },
        { "python >=3.8,<3.12.0a0", "python", ">=3.8,<3.12.0a0", null, null, null },
        { "libgcc-ng >=12", "libgcc-ng", ">=12", null, null, null },
        { "python_abi 3.11.* *_cp311", "python_abi", "3.11.*", "*_cp311", null, null },
        { "openssl >=3.0.8,<4.0a0", "openssl", ">=3.0.8,<4.0a0", null, null, null },
        { "__glibc >=2.17,<3.0.a0", "__glibc", ">=2.17,<3.0.a0", null, null, null },
        { "numpy=1.21", "numpy", "1.21*", null, null, null }, // conda's '=': starts with
        { "numpy=1.21=py39_0", "numpy", "1.21", "py39_0", null, null }, // with a build: exactly
        { "numpy==1.21.0", "numpy", "1.21.0", null, null, null },
        { "foo==1.0=py27_0", "foo", "==1.0", "py27_0", null, null },
        { "pytorch=*=cuda*", "pytorch", "*", "cuda*", null, null },
        { "numpy[version='>=1.0',build=py*]", "numpy", ">=1.0", "py*", null, null },
        { "numpy [ version = \"1.2.*\" , build = 'py39_0' ]", "numpy", "1.2.*", "py39_0", null, null },
        { "numpy 1.0 [version='>=2']", "numpy", ">=2", null, null, null }, // the bracket wins, as in rattler
        { "conda-forge::numpy", "numpy", null, null, "conda-forge", null },
        { "conda-forge/linux-64::numpy >=1.0", "numpy", ">=1.0", null, "conda-forge", "linux-64" },
        { "https://conda.upstream.example/conda-forge::numpy", "numpy", null, null, "https://conda.upstream.example/conda-forge", null },
        { "numpy[channel=conda-forge/noarch]", "numpy", null, null, "conda-forge", "noarch" },
        { "pkg >=1.0|<0.5", "pkg", ">=1.0|<0.5", null, null, null },
        { "pkg * *", "pkg", "*", "*", null, null },
        { "foo >=1.0 , < 2.0 py34_0", "foo", ">=1.0,<2.0", "py34_0", null, null }, // whitespace inside the version is dropped
        { "foo >= 1.0", "foo", ">=1.0", null, null, null },
        { "mkl 2023.*.*", "mkl", "2023.*.*", null, null, null },
        { "numpy  # the array library", "numpy", null, null, null, null },
        { "ca-certificates", "ca-certificates", null, null, null, null },
        { "font-ttf-dejavu-sans-mono", "font-ttf-dejavu-sans-mono", null, null, null, null },
        { "r-base >=4.3,<4.4.0a0", "r-base", ">=4.3,<4.4.0a0", null, null, null },
        { "python 3.11.* *_cpython", "python", "3.11.*", "*_cpython", null, null },
        { "blas 1.0 mkl", "blas", "1.0", "mkl", null, null },
        { "libblas 3.9.0 20_linux64_openblas", "libblas", "3.9.0", "20_linux64_openblas", null, null },
    };

    [Theory]
    [MemberData(nameof(ParseCases))]
    public void Parses_real_forms(string text, string name, string? version, string? build, string? channel, string? subdir)
    {
        Assert.True(CondaMatchSpec.TryParse(text, out var spec, out var error), error);
        Assert.Equal(name, spec.Name);
        Assert.Equal(version, spec.Version?.Text);
        Assert.Equal(build, spec.Build);
        Assert.Equal(channel, spec.Channel);
        Assert.Equal(subdir, spec.Subdir);
        Assert.Equal(text.Trim(), spec.Text);
        Assert.Equal(name.StartsWith("__", StringComparison.Ordinal), spec.IsVirtual);
    }

    // spec, candidate name, version, build, expected
    public static readonly TheoryData<string, string, string, string, bool> MatchCases = new()
    {
        { "numpy 1.21.*", "numpy", "1.21.5", "py39h1234_0", true },
        { "numpy 1.21.*", "numpy", "1.22.0", "py39h1234_0", false },
        { "numpy 1.21.*", "scipy", "1.21.5", "py39h1234_0", false },
        { "NumPy", "numpy", "0.1", "0", true },
        { "numpy", "NUMPY", "0.1", "0", true }, // names are case-insensitive
        { "python_abi 3.11.* *_cp311", "python_abi", "3.11", "4_cp311", true },
        { "python_abi 3.11.* *_cp311", "python_abi", "3.11", "4_cp312", false },
        { "python_abi 3.11.* *_cp311", "python_abi", "3.12", "4_cp311", false },
        { "numpy=1.21", "numpy", "1.21.6", "anything", true },
        { "numpy=1.21", "numpy", "1.210", "anything", false },
        { "numpy=1.21=py39_0", "numpy", "1.21", "py39_0", true },
        { "numpy=1.21=py39_0", "numpy", "1.21.0", "py39_0", true },
        { "numpy=1.21=py39_0", "numpy", "1.21.1", "py39_0", false },
        { "numpy=1.21=py39_0", "numpy", "1.21", "py39_1", false },
        { "numpy==1.21.0", "numpy", "1.21", "0", true },
        { "numpy==1.21.0", "numpy", "1.21.0.1", "0", false },
        { "numpy[version='>=1.0',build=py*]", "numpy", "1.5", "py39h_0", true },
        { "numpy[version='>=1.0',build=py*]", "numpy", "1.5", "cp39", false },
        { "numpy[version='>=1.0',build=py*]", "numpy", "0.9", "py39h_0", false },
        { "pkg >=1.0|<0.5", "pkg", "0.4", "0", true },
        { "pkg >=1.0|<0.5", "pkg", "0.7", "0", false },
        { "pkg * *", "pkg", "0.0.1", "whatever_0", true },
        { "foo * py3?_*", "foo", "1", "py39_0", true }, // '?' is one character in a glob
        { "foo * py3?_*", "foo", "1", "py310_0", false },
        { "foo 1 py3?_0", "foo", "1", "py39_0", false }, // without '*' the build is exact, '?' included
        { "blas * mkl", "blas", "1.0", "mkl", true },
        { "blas * mkl", "blas", "1.0", "openblas", false },
        { "__glibc >=2.17,<3.0.a0", "__glibc", "2.28", "0", true },
        { "openssl >=3.0.8,<4.0a0", "openssl", "4.0.0a1", "h0", false },
        { "openssl >=3.0.8,<4.0a0", "openssl", "3.0.8", "h0", true },
        { "conda-forge::numpy >=1.0", "numpy", "1.0", "0", true }, // the channel is not matched
        { "numpy", "numpy", "1..0", "0", false }, // an unparseable version never matches
    };

    [Theory]
    [MemberData(nameof(MatchCases))]
    public void Matches(string text, string name, string version, string build, bool expected)
    {
        var spec = CondaMatchSpec.Parse(text);
        Assert.Equal(expected, spec.Matches(name, version, build));
        if (CondaVersion.TryParse(version, out var parsed))
        {
            Assert.Equal(expected, spec.Matches(name, parsed, build));
        }
    }

    [Theory]
    [InlineData("", "the package name is missing")]
    [InlineData("# only a comment", "the package name is missing")]
    [InlineData(">=1.0", "the package name is missing")]
    [InlineData("numpy[version='>=1.0'", "is not a package name")]
    [InlineData("num\u00e9py", "is not a package name")]
    [InlineData("numpy*", "is not a package name")]
    [InlineData("numpy[foo=1]", "unknown bracket key 'foo'")]
    [InlineData("numpy[build_number=1]", "'build_number' is not supported")]
    [InlineData("numpy[version]", "expected '=' after 'version'")]
    [InlineData("numpy[version=]", "has no value")]
    [InlineData("numpy[version='1.0]", "unterminated '")]
    [InlineData("numpy[version=1.0,]", "cannot end with ','")]
    [InlineData("numpy[version='>=1.0' build=py*]", "expected ',' or ']'")]
    [InlineData("numpy[version='>=1..0']", "is not a valid conda version spec")]
    [InlineData("numpy [build=a] [version=1]", "only one bracket section")]
    [InlineData("numpy >=1.0,,2", "expected a version")]
    [InlineData("numpy >=1.0 ,", "expected a version")]
    [InlineData("numpy >=1.0.*.*.3", "not a trailing glob")]
    [InlineData("numpy 1.2+", "expected a local version")]
    [InlineData("numpy (>=1.0", "expected ')'")]
    [InlineData("numpy 1.0 ^py.*$", "regular expression")]
    [InlineData("numpy 1.0 py[23]*", "only one bracket section")]
    [InlineData("numpy[build='py[23]*']", "expected '=' after '23'")] // the section starts at the last '[', as in rattler
    [InlineData("numpy * py**_0", "'**' inside a pattern")]
    [InlineData("https://conda.upstream.example/pkgs/numpy-1.0-0.conda", "URLs and file paths are not supported")]
    [InlineData("/tmp/numpy-1.0-0.tar.bz2", "URLs and file paths are not supported")]
    [InlineData("::numpy", "the channel before '::' is empty")]
    public void Refuses_malformed_specs_with_a_precise_error(string text, string reason)
    {
        Assert.False(CondaMatchSpec.TryParse(text, out var spec, out var error));
        Assert.Null(spec);
        Assert.NotNull(error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.StartsWith($"'{text.Trim()}' is not a valid conda MatchSpec: ", error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => CondaMatchSpec.Parse(text));
        Assert.Equal(error, thrown.Message);
    }

    [Fact]
    public void Null_is_refused_without_throwing()
    {
        Assert.False(CondaMatchSpec.TryParse(null, out _, out var error));
        Assert.NotNull(error);
    }

    /// <summary>
    /// TryParse never throws: random strings over the characters specs are made of (and a few others), seeded, are
    /// either parsed or refused with a message, and whatever parses can be matched.
    /// </summary>
    [Fact]
    public void TryParse_never_throws_on_garbage()
    {
        const string alphabet = "abcXYZ019_-.*=<>!~|,()[]'\" :#+^$/\t\u00e9";
        var random = new Random(424242);
        int parsed = 0, refused = 0;
        for (var i = 0; i < 20000; i++)
        {
            var length = random.Next(0, 24);
            var text = new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            if (random.Next(2) == 0)
            {
                text = "pkg " + text;
            }
            if (CondaMatchSpec.TryParse(text, out var spec, out var error))
            {
                parsed++;
                _ = spec.Matches(spec.Name, "1.0", "py_0");
            }
            else
            {
                refused++;
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }
        Assert.True(parsed > 500 && refused > 500, $"{parsed} parsed, {refused} refused: the generator is too one-sided");
    }
}
