# A container with sysrev and its pinned dependencies, for `snakemake --sdm apptainer` or to
# run a review anywhere Docker runs:
#   docker build -t sysrev .
#   docker run --rm -v "$PWD/myreview:/review" -w /review sysrev \
#       snakemake -s /opt/sysrev/Snakefile --cores 4
# (not built in CI: the build machines have no container runtime)
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends rsync fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md LICENSE /opt/sysrev/
COPY src /opt/sysrev/src
COPY Snakefile /opt/sysrev/Snakefile
COPY rules /opt/sysrev/rules
COPY scripts /opt/sysrev/scripts
COPY config /opt/sysrev/config
COPY envs /opt/sysrev/envs
COPY report /opt/sysrev/report
RUN pip install --no-cache-dir /opt/sysrev

WORKDIR /review
CMD ["snakemake", "-s", "/opt/sysrev/Snakefile", "--cores", "4"]
