package io.langconnect.gitops.testenv;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

/**
 * Smart HTTP git on loopback: git's own {@code git http-backend} run as CGI behind a Vert.x server that asks
 * for HTTP basic credentials with one token as the password, as GitHub and GitLab do for HTTPS tokens.
 */
public final class HttpGitServer implements AutoCloseable {

  private final HttpServer server;

  private HttpGitServer(HttpServer server) {
    this.server = server;
  }

  public static HttpGitServer start(Vertx vertx, Path repositories, String token) {
    HttpServer server = vertx.createHttpServer().requestHandler(request -> {
      String expected = "Basic " + Base64.getEncoder().encodeToString(("git:" + token).getBytes(StandardCharsets.UTF_8));
      if (!expected.equals(request.getHeader("Authorization"))) {
        request.response().setStatusCode(401).putHeader("WWW-Authenticate", "Basic realm=\"git\"").end();
        return;
      }
      request.body().compose(body -> vertx.executeBlocking(() -> cgi(request, body, repositories)))
          .onSuccess(response -> {
            request.response().setStatusCode(response.status());
            response.headers().forEach(request.response()::putHeader);
            request.response().end(Buffer.buffer(response.body()));
          })
          .onFailure(e -> request.response().setStatusCode(500).end(String.valueOf(e.getMessage())));
    });
    LocalControlPlane.await(server.listen(0, "127.0.0.1"));
    return new HttpGitServer(server);
  }

  public String url(String repository) {
    return "http://127.0.0.1:" + server.actualPort() + "/" + repository;
  }

  private record Response(int status, Map<String, String> headers, byte[] body) {}

  private static Response cgi(HttpServerRequest request, Buffer body, Path root) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("git", "http-backend");
    Map<String, String> env = builder.environment();
    env.put("GIT_PROJECT_ROOT", root.toString());
    env.put("GIT_HTTP_EXPORT_ALL", "1");
    env.put("REQUEST_METHOD", request.method().name());
    env.put("PATH_INFO", request.path());
    env.put("QUERY_STRING", request.query() == null ? "" : request.query());
    env.put("CONTENT_TYPE", request.getHeader("Content-Type") == null ? "" : request.getHeader("Content-Type"));
    env.put("CONTENT_LENGTH", Integer.toString(body.length()));
    env.put("REMOTE_USER", "git");
    env.put("REMOTE_ADDR", "127.0.0.1");
    if (request.getHeader("Git-Protocol") != null) env.put("GIT_PROTOCOL", request.getHeader("Git-Protocol"));
    // CGI passes every request header as HTTP_<NAME>; http-backend reads Content-Encoding (gzip) from there.
    request.headers().forEach(h -> env.put("HTTP_" + h.getKey().toUpperCase().replace('-', '_'), h.getValue()));
    Process process = builder.start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(body.getBytes());
    }
    byte[] out;
    try (InputStream stdout = process.getInputStream()) {
      out = stdout.readAllBytes();
    }
    process.waitFor();
    int split = indexOf(out, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    int skip = 4;
    if (split < 0) {
      split = indexOf(out, "\n\n".getBytes(StandardCharsets.US_ASCII));
      skip = 2;
    }
    Map<String, String> headers = new java.util.LinkedHashMap<>();
    int status = 200;
    for (String line : new String(out, 0, Math.max(split, 0), StandardCharsets.US_ASCII).split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) continue;
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Status")) status = Integer.parseInt(value.split(" ")[0]);
      else headers.put(name, value);
    }
    ByteArrayOutputStream rest = new ByteArrayOutputStream();
    if (split >= 0) rest.write(out, split + skip, out.length - split - skip);
    return new Response(status, headers, rest.toByteArray());
  }

  private static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) if (data[i + j] != pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  @Override
  public void close() {
    LocalControlPlane.await(server.close());
  }
}
