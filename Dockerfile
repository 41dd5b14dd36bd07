# Build: docker build -t registry.example.com/langconnect-gitops:0.1.0 .
# (Not built by the project's CI: its machines run no container engine. The jar it packages is the one
# `mvn -B package` makes and the tests exercise.)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /var/lib/langconnect-gitops langconnect-gitops
COPY --from=build /src/target/langconnect-gitops.jar /opt/langconnect-gitops/langconnect-gitops.jar
USER 10001:10001
EXPOSE 8080
# JVM options here, not in JAVA_TOOL_OPTIONS: the JVM announces those on stderr, a line no JSON log reader parses.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-Djava.io.tmpdir=/tmp", "-jar", "/opt/langconnect-gitops/langconnect-gitops.jar"]
CMD ["serve", "--config", "/etc/langconnect-gitops/config/controller.yaml"]
