using System.Net;
using System.Text.Json;

namespace Exchange.Cli.Connection;

/// <summary>Client-credentials token requests against a node's <c>/connect/token</c>.</summary>
internal sealed class TokenClient(HttpClient http)
{
    public async Task<(string Token, DateTimeOffset ExpiresAt)> RequestAsync(Uri node, string clientId, string clientSecret, IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node, "/connect/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = clientId,
                ["client_secret"] = clientSecret,
                ["scope"] = string.Join(' ', scopes),
            }),
            // The node speaks HTTP/2 only; over plain HTTP that means prior knowledge (h2c).
            Version = HttpVersion.Version20,
            VersionPolicy = node.Scheme == Uri.UriSchemeHttp ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
        };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the node at {node}: {e.Message}", ExitCodes.Unavailable);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonElement json;
            try
            {
                json = JsonDocument.Parse(body).RootElement;
            }
            catch (JsonException)
            {
                throw new CliException($"the node at {node} answered the token request with HTTP {(int)response.StatusCode} and no OAuth response");
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var why = json.TryGetProperty("error_description", out var d429) ? d429.GetString() : "too many requests";
                throw new CliException($"the node at {node} refuses token requests for now: {why}");
            }
            if (!response.IsSuccessStatusCode || !json.TryGetProperty("access_token", out var token))
            {
                var error = json.TryGetProperty("error", out var e) ? e.GetString() : $"HTTP {(int)response.StatusCode}";
                var description = json.TryGetProperty("error_description", out var d) ? d.GetString() : "";
                throw new CliException($"login refused by {node}: {error}: {description}", ExitCodes.NotAuthorized);
            }
            var lifetime = json.TryGetProperty("expires_in", out var expires) ? expires.GetInt32() : 300;
            return (token.GetString()!, DateTimeOffset.UtcNow.AddSeconds(lifetime));
        }
    }
}
