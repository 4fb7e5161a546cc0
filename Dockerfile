# papertrends' code location image: the Dagster gRPC server that the Helm chart's
# dagster-user-deployments runs, and the image of every run's K8s Job (K8sRunLauncher).
# See deploy/k8s/README.md. Checked without a docker daemon by deploy/k8s/check_dockerfile.py,
# which replays the ENV/WORKDIR/COPY/RUN steps below in a throwaway venv.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PAPERTRENDS_HOME=/var/lib/papertrends \
    DAGSTER_HOME=/opt/dagster/dagster_home

RUN groupadd --system --gid 10001 papertrends \
    && useradd --system --uid 10001 --gid papertrends --home-dir /var/lib/papertrends \
       --shell /usr/sbin/nologin papertrends

# dbt is the venv's (orchestration.env.DBT_EXECUTABLE: the dbt beside sys.executable)
RUN python -m venv /opt/venv

WORKDIR /opt/papertrends
COPY pyproject.toml requirements.lock README.md ./
COPY orchestration/ orchestration/
COPY transforms/ transforms/
COPY expectations/ expectations/
COPY dbt_project/ dbt_project/
COPY deploy/workspace.yaml deploy/workspace.yaml
COPY data/samples/ data/samples/

# Editable, so orchestration.env.REPO_ROOT (from the package's __file__) is this folder and
# dbt_project/ is found from any working directory: a plain install puts the packages in
# site-packages, without dbt_project/. dagster-k8s: the K8sRunLauncher the chart's instance
# config names (run pods and the daemon import it). httpfs: DuckDB's s3:// reads and writes
# for DuckLake data files on object storage.
RUN python -m pip install --upgrade pip \
    && python -m pip install --constraint requirements.lock --editable . \
       dagster-k8s==0.29.27 duckdb-extension-httpfs==1.5.5

# dbt's manifest, parsed at build time: at run time it is fresh and nothing is written here
# (the code is root's, read-only for the papertrends user)
RUN python -m orchestration.dbt_project

RUN mkdir -p /var/lib/papertrends /opt/dagster/dagster_home \
    && chown papertrends:papertrends /var/lib/papertrends /opt/dagster/dagster_home

USER papertrends
VOLUME ["/var/lib/papertrends"]
EXPOSE 3030

# The chart replaces this with its own args (dagster api grpc -h 0.0.0.0 -p <port> + the
# deployment's dagsterApiGrpcArgs); the same command for `docker run`.
CMD ["dagster", "api", "grpc", "-m", "orchestration.definitions", "--host", "0.0.0.0", "--port", "3030"]
