//! Reading the gateway's Prometheus endpoint: the number of inventory
//! queries made so far, summed over the histogram's labels.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The count series of the gateway's inventory query histogram.
pub const INVENTORY_QUERIES: &str = "panelgate_inventory_query_duration_seconds_count";

/// Reads one gateway's `/metrics`.
pub struct Scraper {
    client: reqwest::Client,
    url: String,
}

impl Scraper {
    /// A scraper of `http://<addr>/metrics`, once the endpoint answers
    /// (waits up to 5 s for its listener).
    pub async fn ready(addr: SocketAddr) -> anyhow::Result<Scraper> {
        let scraper = Scraper {
            client: reqwest::Client::new(),
            url: format!("http://{addr}/metrics"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match scraper.text().await {
                Ok(_) => return Ok(scraper),
                Err(err) if Instant::now() >= deadline => {
                    return Err(err.context("the metrics endpoint never answered"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn text(&self) -> anyhow::Result<String> {
        let reply = self
            .client
            .get(&self.url)
            .send()
            .await
            .with_context(|| format!("GET {}", self.url))?
            .error_for_status()
            .with_context(|| format!("GET {}", self.url))?;
        reply.text().await.context("read /metrics")
    }

    /// Inventory queries made so far: [`INVENTORY_QUERIES`] summed over its
    /// labels. An error when the gateway exposes no such series.
    pub async fn inventory_queries(&self) -> anyhow::Result<f64> {
        let text = self.text().await?;
        match sum_series(&text, INVENTORY_QUERIES) {
            Some(total) => Ok(total),
            None => bail!("{} does not expose {INVENTORY_QUERIES}", self.url),
        }
    }
}

/// The sum of every sample of series `name` in Prometheus text `text`
/// (`name 3` or `name{label="x"} 3`), None when there is none.
pub fn sum_series(text: &str, name: &str) -> Option<f64> {
    let mut total = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let value = if let Some(labelled) = rest.strip_prefix('{') {
            labelled.rsplit_once('}').map(|(_, value)| value)
        } else if rest.starts_with(' ') {
            Some(rest)
        } else {
            None // another series whose name starts with `name`
        };
        let sample = value
            .and_then(|value| value.split_whitespace().next())
            .and_then(|value| value.parse::<f64>().ok());
        if let Some(sample) = sample {
            *total.get_or_insert(0.0) += sample;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_a_series_over_its_labels_and_only_that_series() {
        let text = "\
# HELP panelgate_inventory_query_duration_seconds Inventory queries.
# TYPE panelgate_inventory_query_duration_seconds histogram
panelgate_inventory_query_duration_seconds_sum{statement=\"select\",outcome=\"ok\"} 0.25
panelgate_inventory_query_duration_seconds_count{statement=\"select\",outcome=\"ok\"} 12
panelgate_inventory_query_duration_seconds_bucket{statement=\"select\",outcome=\"ok\",le=\"0.005\"} 12
panelgate_inventory_query_duration_seconds_count{statement=\"insert {x}\",outcome=\"error\"} 3
panelgate_inventory_query_duration_seconds_count_other 100
# EOF
";
        assert_eq!(sum_series(text, INVENTORY_QUERIES), Some(15.0));
        assert_eq!(sum_series("up 1\n", INVENTORY_QUERIES), None);
        assert_eq!(sum_series("x 7\n", "x"), Some(7.0));
    }
}
