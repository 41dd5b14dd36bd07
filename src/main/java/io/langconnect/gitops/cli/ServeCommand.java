package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.cluster.KubernetesClients;
import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.controller.LogFormat;
import io.langconnect.gitops.git.GitUrls;
import io.langconnect.gitops.git.ValuesRepository;
import io.vertx.core.Vertx;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the controller: poll the values repository, sync every environment, correct drift, serve"
        + " /metrics, /healthz, /readyz and /api/v1.")
final class ServeCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--interval", paramLabel = "DURATION", description = "How often to ask git for the branch head (default 60s).")
  String interval;

  @Option(names = "--port", paramLabel = "PORT", description = "HTTP port (default 8080).")
  Integer port;

  @Option(names = "--no-leader-election", description = "Sync without taking the Lease (one replica only).")
  boolean noLeaderElection;

  @Option(names = "--clusters", paramLabel = "NAME[,NAME...]", split = ",",
      description = "Sync only the environments on these clusters (one shard of several; in-cluster is the"
          + " controller's own). Overrides shard.clusters; the shard takes a Lease of its own.")
  java.util.List<String> clusters;

  @Option(names = "--log-format", paramLabel = "text|json",
      description = "Log lines as text (default) or one JSON object per line. Overrides logging.format.")
  String logFormat;

  @Override
  public Integer call() throws Exception {
    ControllerConfig config = options.load();
    if (logFormat != null) {
      try {
        config = config.withLogging(new ControllerConfig.Logging(logFormat));
      } catch (ConfigLoader.ConfigException e) {
        throw new Main.UserError("--log-format: " + e.getMessage().replace("logging.format: ", ""));
      }
    }
    LogFormat.use(config.logging());
    if (config.git().optionalUrl().isEmpty()) throw new Main.UserError("no repository; expected --repo URL or git.url in --config");
    if (interval != null) {
      ControllerConfig.Git g = config.git();
      config = config.withGit(new ControllerConfig.Git(g.url(), g.branch(), g.path(),
          ControllerOptions.duration("--interval", interval), g.timeout(), g.workDir(), g.auth()));
    }
    if (port != null) config = config.withHttp(new ControllerConfig.Http(port, config.http().host(), config.http().apiTokenFile(),
        config.http().idleTimeout()));
    if (noLeaderElection) {
      ControllerConfig.Kubernetes k = config.kubernetes();
      config = config.withKubernetes(new ControllerConfig.Kubernetes(k.stateNamespace(), k.kubeconfig(), false,
          k.leaseName(), k.requestTimeout(), k.allowedNamespaces()));
    }
    if (clusters != null) {
      try {
        config = config.withShard(new ControllerConfig.Shard(clusters));
      } catch (ConfigLoader.ConfigException e) {
        throw new Main.UserError("--clusters: " + e.getMessage());
      }
    }
    Vertx vertx = Vertx.vertx();
    KubernetesClient client = KubernetesClients.create(Optional.ofNullable(config.kubernetes().kubeconfig()),
        config.kubernetes().requestTimeout());
    Controller controller = new Controller(vertx, client, config);
    try {
      controller.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ConfigLoader.ConfigException | ValuesRepository.GitException e) {
      client.close();
      vertx.close();
      throw new Main.UserError(e.getMessage());
    } catch (ExecutionException e) {
      client.close();
      vertx.close();
      // Typically the HTTP port is taken.
      throw new Main.UserError("cannot start: " + e.getCause().getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      controller.close();
      client.close();
      vertx.close().await();
      stopped.countDown();
    }));
    // Through the logger, so that it is a JSON line too when the logs are.
    LoggerFactory.getLogger(ServeCommand.class).info("serving on port " + controller.httpPort() + "; syncing " + GitUrls.redact(config.git().url())
        + " (" + config.git().branch() + ", " + config.git().path() + ")" + (config.shard().clusters().isEmpty() ? ""
        : "; environments on " + String.join(", ", config.shard().clusters()) + " only (Lease " + config.leaseName() + ")"));
    stopped.await();
    return 0;
  }
}
