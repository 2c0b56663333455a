using SafeHaven.Airlock.Volumes;

namespace SafeHaven.Airlock.Tests.Volumes;

/// <summary>Names reviewers can trust: one form per name, nothing invisible, no look-alikes in one volume.</summary>
public sealed class VolumePathTests
{
    [Fact]
    public void Paths_are_normalised_to_nfc()
    {
        var decomposed = "data/cafe\u0301.csv"; // e + COMBINING ACUTE ACCENT
        Assert.NotEqual("data/caf\u00e9.csv", decomposed);

        var normal = VolumePath.Normalise(decomposed);

        Assert.Equal("data/caf\u00e9.csv", normal);
        Assert.Equal(normal, VolumePath.Normalise("data/caf\u00e9.csv"));
    }

    [Theory]
    [InlineData("report\u202Etxt.exe", "U+202E", "format character")] // RIGHT-TO-LEFT OVERRIDE
    [InlineData("a\u2066b.txt", "U+2066", "format character")] // LEFT-TO-RIGHT ISOLATE
    [InlineData("a\u200Bb.txt", "U+200B", "format character")] // ZERO WIDTH SPACE
    [InlineData("\uFEFFa.txt", "U+FEFF", "format character")] // BYTE ORDER MARK
    [InlineData("a\u0007b.txt", "U+0007", "control character")]
    [InlineData("a\u0085b.txt", "U+0085", "control character")] // NEXT LINE (C1)
    [InlineData("a\u2028b.txt", "U+2028", "line or paragraph separator")]
    public void Control_format_and_invisible_characters_are_refused_with_the_code_point(string path, string codePoint, string what)
    {
        var error = Assert.Throws<ArgumentException>(() => VolumePath.Normalise(path));

        Assert.Contains(what, error.Message, StringComparison.Ordinal);
        Assert.Contains(codePoint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unpaired_surrogate_is_refused()
    {
        var path = "a" + (char)0xD800 + "b.txt"; // built at run time: attribute strings cannot carry one

        var error = Assert.Throws<ArgumentException>(() => VolumePath.Normalise(path));

        Assert.Contains("unpaired surrogate (U+D800 at position 1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_format_character_outside_the_basic_plane_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => VolumePath.Normalise("a\U000E0001b.txt")); // LANGUAGE TAG

        Assert.Contains("format character", error.Message, StringComparison.Ordinal);
        Assert.Equal("a\U0001F600.txt", VolumePath.Normalise("a\U0001F600.txt")); // an emoji is a visible symbol
    }

    [Theory]
    [InlineData("Data/Cohort.CSV", "data/cohort.csv", "differs only in case")]
    [InlineData("data", "data/cohort.csv", "would be a file, but the volume has 'data/cohort.csv'")]
    [InlineData("DATA", "data/cohort.csv", "would be a file")]
    [InlineData("data/cohort.csv/extra", "data/cohort.csv", "needs 'data/cohort.csv' to be a directory")]
    [InlineData("Data/Cohort.csv/x", "data/cohort.csv", "to be a directory")]
    public void Look_alike_paths_clash_with_the_reason(string path, string existing, string reason)
    {
        var clash = VolumePath.Clash(path, ["other.txt", existing]);

        Assert.NotNull(clash);
        Assert.Contains(reason, clash, StringComparison.Ordinal);
    }

    [Fact]
    public void Distinct_names_and_the_same_name_do_not_clash_here()
    {
        Assert.Null(VolumePath.Clash("data/cohort.csv", ["data/cohort.csv", "data/cohort.csv.bak", "data/cohort", "datasets/x"]));
    }
}
