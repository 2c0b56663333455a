using System.CommandLine;

namespace SafeHaven.Appliance;

/// <summary>Commands contributed by the other parts of the appliance.</summary>
internal static class ExtraCommands
{
    public static IEnumerable<Command> Create()
    {
        yield break;
    }
}
