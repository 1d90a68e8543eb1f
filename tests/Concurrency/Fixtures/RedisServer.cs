using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>A redis-server of a test's own, on a free port, that the test may stop and start again without disturbing others.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    Process? _process;

    RedisServer(int port) => Port = port;

    public int Port { get; }
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new RedisServer(port);
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server", ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30); // a bound for a broken machine, not a measurement
        while (!await AnswersAsync())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {Port} did not answer");
            await Task.Delay(20);
        }
    }

    /// <summary>Kills the server (no shutdown save) and waits for it to be gone.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGSTOP: the server keeps its connections open and answers nothing, as a hung machine would.</summary>
    public void Freeze() => Signal("-STOP");

    public void Thaw() => Signal("-CONT");

    void Signal(string signal)
    {
        if (_process is null) return;
        using var kill = Process.Start("kill", [signal, _process.Id.ToString()]);
        kill.WaitForExit();
    }

    async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
    }

    public ValueTask DisposeAsync()
    {
        Thaw();
        return new(StopAsync());
    }
}
