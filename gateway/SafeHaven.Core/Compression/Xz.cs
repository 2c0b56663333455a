using System.Runtime.InteropServices;

namespace SafeHaven.Core.Compression;

/// <summary>
/// xz compression (the <c>.xz</c> container, LZMA2, CRC64 check) through the system's liblzma (<c>liblzma.so.5</c>,
/// from Debian's liblzma5, which dpkg itself needs, so every Debian machine has it). No package on the registry this
/// appliance restores from writes xz in managed code (SharpCompress only reads it), and apt asks for
/// <c>Packages.xz</c> first. Streams: memory is liblzma's encoder state (about 94 MiB at preset 6) plus two 64 KiB
/// buffers, whatever the input size.
/// </summary>
public static class Xz
{
    private const string Library = "liblzma.so.5";
    private const int BufferSize = 64 * 1024;

    /// <summary>Compresses <paramref name="input"/> to <paramref name="output"/> as one xz stream.</summary>
    /// <param name="preset">0 (fastest) to 9 (smallest); 6 is xz's own default.</param>
    public static async Task CompressAsync(Stream input, Stream output, int preset = 6, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(preset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(preset, 9);
        if (IntPtr.Size != 8)
        {
            throw new PlatformNotSupportedException("xz compression is supported on 64-bit platforms only");
        }
        var managedIn = new byte[BufferSize];
        var managedOut = new byte[BufferSize];
        var streamPointer = Marshal.AllocHGlobal(Marshal.SizeOf<LzmaStream>());
        var nativeIn = Marshal.AllocHGlobal(BufferSize);
        var nativeOut = Marshal.AllocHGlobal(BufferSize);
        var initialised = false;
        try
        {
            Marshal.StructureToPtr(default(LzmaStream), streamPointer, false);
            Check(lzma_easy_encoder(streamPointer, (uint)preset, CheckCrc64), "lzma_easy_encoder");
            initialised = true;
            var finished = false;
            while (!finished)
            {
                var read = await input.ReadAsync(managedIn, cancellationToken).ConfigureAwait(false);
                Marshal.Copy(managedIn, 0, nativeIn, read);
                var state = Marshal.PtrToStructure<LzmaStream>(streamPointer);
                state.NextIn = nativeIn;
                state.AvailIn = (nuint)read;
                Marshal.StructureToPtr(state, streamPointer, false);
                var action = read == 0 ? ActionFinish : ActionRun;
                while (true)
                {
                    state = Marshal.PtrToStructure<LzmaStream>(streamPointer);
                    state.NextOut = nativeOut;
                    state.AvailOut = BufferSize;
                    Marshal.StructureToPtr(state, streamPointer, false);
                    var result = lzma_code(streamPointer, action);
                    state = Marshal.PtrToStructure<LzmaStream>(streamPointer);
                    var produced = BufferSize - (int)state.AvailOut;
                    if (produced > 0)
                    {
                        Marshal.Copy(nativeOut, managedOut, 0, produced);
                        await output.WriteAsync(managedOut.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
                    }
                    if (result == StreamEnd)
                    {
                        finished = true;
                        break;
                    }
                    Check(result, "lzma_code");
                    if (action == ActionRun && state.AvailIn == 0 && state.AvailOut != 0)
                    {
                        break; // the input is consumed; read more
                    }
                }
            }
        }
        catch (DllNotFoundException e)
        {
            throw new PlatformNotSupportedException($"xz compression needs the system library {Library} (Debian package liblzma5)", e);
        }
        finally
        {
            if (initialised)
            {
                lzma_end(streamPointer);
            }
            Marshal.FreeHGlobal(nativeOut);
            Marshal.FreeHGlobal(nativeIn);
            Marshal.FreeHGlobal(streamPointer);
        }
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new IOException($"liblzma {call} failed with code {result}" + result switch
            {
                5 => " (LZMA_MEM_ERROR: out of memory)",
                8 => " (LZMA_OPTIONS_ERROR)",
                11 => " (LZMA_PROG_ERROR)",
                _ => "",
            });
        }
    }

    private const int ActionRun = 0;
    private const int ActionFinish = 3;
    private const int StreamEnd = 1;
    private const int CheckCrc64 = 4;

    /// <summary>liblzma's <c>lzma_stream</c> (LP64 layout; <c>LZMA_STREAM_INIT</c> is all zeros).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LzmaStream
    {
        public IntPtr NextIn;
        public nuint AvailIn;
        public ulong TotalIn;
        public IntPtr NextOut;
        public nuint AvailOut;
        public ulong TotalOut;
        public IntPtr Allocator;
        public IntPtr Internal;
        public IntPtr ReservedPointer1;
        public IntPtr ReservedPointer2;
        public IntPtr ReservedPointer3;
        public IntPtr ReservedPointer4;
        public ulong ReservedInteger1;
        public ulong ReservedInteger2;
        public nuint ReservedInteger3;
        public nuint ReservedInteger4;
        public int ReservedEnum1;
        public int ReservedEnum2;
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code; these signatures are blittable
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int lzma_easy_encoder(IntPtr stream, uint preset, int check);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int lzma_code(IntPtr stream, int action);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern void lzma_end(IntPtr stream);
#pragma warning restore SYSLIB1054
}
