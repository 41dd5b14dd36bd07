package io.langconnect.gitops.controller;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.joran.spi.JoranException;
import io.langconnect.gitops.config.ControllerConfig;
import org.slf4j.LoggerFactory;

/**
 * Switches the log lines between text (logback.xml) and JSON, one object per line with time, level, logger, message
 * and the environment, cluster and revision a sync works on (from the MDC), as Flux's {@code --log-encoding json}
 * and Argo CD's {@code --logformat json} do.
 */
public final class LogFormat {

  private LogFormat() {}

  public static void use(ControllerConfig.Logging logging) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    if (!logging.json()) {
      if (root.getAppender("json") == null) return;
      context.reset();
      try {
        new ContextInitializer(context).autoConfig();
      } catch (JoranException e) {
        throw new IllegalStateException("logback.xml cannot be read back", e);
      }
      return;
    }
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false);
    encoder.setWithThreadName(false);
    encoder.setWithMessage(false); // the formatted message only: its pattern and arguments add nothing
    encoder.setWithFormattedMessage(true);
    encoder.setWithArguments(false);
    encoder.setWithKVPList(false);
    encoder.setWithMarkers(false);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("json");
    appender.setTarget("System.err");
    appender.setEncoder(encoder);
    appender.start();
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }
}
