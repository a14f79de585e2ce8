using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Account;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

// The machine's bounds, measured on Environment.ProcessorCount threads in parallel for SECONDS each (argument 1, default 3):
//  - RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second (RS256 tokens),
//  - ECDSA P-256 SHA-256 signatures per second (ES256 tokens),
//  - password hashes per second with the server's own IPasswordHasher<UserAccount>, taken from the server's service
//    registration (AccountSetup.AddIdentityHubAccounts), so with the parameters the server runs with.
// Prints one line per bound: BOUND name=<rsa2048|p256|password> per_second=<n> threads=<n> detail=<text>
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var threads = Environment.ProcessorCount;
var payload = RandomNumberGenerator.GetBytes(600); // about the size of a JWT's signing input

using var rsa = RSA.Create(2048);
Report("rsa2048", Measure(() => rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), "PKCS#1 v1.5 SHA-256");

using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
Report("p256", Measure(() => ecdsa.SignData(payload, HashAlgorithmName.SHA256)), "ECDSA P-256 SHA-256");

var builder = WebApplication.CreateBuilder([]);
builder.AddIdentityHubAccounts();
await using var services = builder.Services.BuildServiceProvider();
var hasher = services.GetRequiredService<IPasswordHasher<UserAccount>>();
var user = new UserAccount { UserName = "bench" };
var hash = hasher.HashPassword(user, "Bench-Password-123");
var format = Convert.FromBase64String(hash)[0] == 0x01 ? $"{hasher.GetType().Name.Split('`')[0]} v3 (PBKDF2), {IterationsOf(hash)} iterations" : hasher.GetType().Name.Split('`')[0];
Report("password", Measure(() =>
{
    if (hasher.VerifyHashedPassword(user, hash, "Bench-Password-123") == PasswordVerificationResult.Failed)
    {
        throw new InvalidOperationException("the hasher refused its own hash");
    }
}), $"verify, {format}");

double Measure(Action operation)
{
    operation(); // warm-up: JIT, key caches
    var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    long total = 0;
    var clock = Stopwatch.StartNew();
    Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
    {
        long count = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            operation();
            count++;
        }

        Interlocked.Add(ref total, count);
    });
    return total / clock.Elapsed.TotalSeconds;
}

void Report(string name, double perSecond, string detail) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BOUND name={name} per_second={perSecond:F0} threads={threads} detail={detail}"));

// ASP.NET Core Identity v3 format: 0x01, PRF (4 bytes), iteration count (4 bytes, big-endian), salt length, salt, subkey.
static int IterationsOf(string hash)
{
    var bytes = Convert.FromBase64String(hash);
    return (bytes[5] << 24) | (bytes[6] << 16) | (bytes[7] << 8) | bytes[8];
}
