package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class DriftCheckTest {

  private static final JsonMapper JSON = new JsonMapper();

  private static JsonNode json(String text) {
    return JSON.readTree(text.replace('\'', '"'));
  }

  @Test
  void fieldsTheServerAddsAreNotDrift() {
    JsonNode desired = json("{'spec':{'replicas':1,'template':{'spec':{'containers':[{'name':'a','image':'x:1'}]}}}}");
    JsonNode live = json("{'metadata':{'uid':'u'},'spec':{'replicas':1,'progressDeadlineSeconds':600,"
        + "'template':{'spec':{'containers':[{'name':'a','image':'x:1','terminationMessagePath':'/dev/x'}]}}},"
        + "'status':{'replicas':1}}");
    assertThat(DriftCheck.differences(desired, live)).isEmpty();
  }

  @Test
  void changedScaledAndMissingFieldsAreDrift() {
    JsonNode desired = json("{'spec':{'replicas':1,'template':{'spec':{'containers':[{'name':'a','image':'x:1'}]}}}}");
    JsonNode live = json("{'spec':{'replicas':3,'template':{'spec':{'containers':[{'name':'a','image':'evil:1'}]}}}}");
    assertThat(DriftCheck.differences(desired, live))
        .containsExactly(".spec.replicas", ".spec.template.spec.containers[0].image");
    assertThat(DriftCheck.differences(desired, json("{}"))).containsExactly(".spec");
  }

  @Test
  void anExtraListItemIsDrift() {
    assertThat(DriftCheck.differences(json("{'env':[{'name':'A'}]}"), json("{'env':[{'name':'A'},{'name':'B'}]}")))
        .containsExactly(".env");
  }

  @Test
  void quantitiesCompareByAmountUnderResources() {
    JsonNode desired = json("{'resources':{'limits':{'cpu':'1000m','memory':'1024Mi'}}}");
    JsonNode live = json("{'resources':{'limits':{'cpu':'1','memory':'1Gi'}}}");
    assertThat(DriftCheck.differences(desired, live)).isEmpty();
    assertThat(DriftCheck.differences(desired, json("{'resources':{'limits':{'cpu':'2','memory':'1Gi'}}}")))
        .containsExactly(".resources.limits.cpu");
    assertThat(DriftCheck.differences(json("{'tag':'1000m'}"), json("{'tag':'1'}"))).containsExactly(".tag");
  }
}
