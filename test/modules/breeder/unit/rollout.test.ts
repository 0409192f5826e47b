/** Rollout progress read from workload objects as the API server returns them (kubectl rollout status's rules). */
import { describe, expect, it } from 'vitest';
import { rolloutProgress } from '../../../../src/modules/breeder/runtime/effectuation/rollout.ts';

const deployment = (status: Record<string, unknown>, generation = 3, replicas = 2) => ({ metadata: { generation }, spec: { replicas }, status: { observedGeneration: 3, ...status } });

describe('rollout progress', () => {
  it('waits for the controller to observe the new generation first', () => {
    const p = rolloutProgress('Deployment', deployment({ updatedReplicas: 2, replicas: 2, availableReplicas: 2 }, 4));
    expect(p).toEqual({ done: false, waiting: 'the controller to observe generation 4 (it has seen 3)' });
  });

  it('a deployment is done when every replica is updated, old ones are gone and the new ones are available', () => {
    expect(rolloutProgress('Deployment', deployment({ updatedReplicas: 1, replicas: 2, availableReplicas: 1 }))).toMatchObject({ done: false, waiting: '1 of 2 replicas updated' });
    expect(rolloutProgress('Deployment', deployment({ updatedReplicas: 2, replicas: 3, availableReplicas: 2 }))).toMatchObject({ done: false, waiting: '1 old replicas pending termination' });
    expect(rolloutProgress('Deployment', deployment({ updatedReplicas: 2, replicas: 2, availableReplicas: 1 }))).toMatchObject({ done: false, waiting: '1 of 2 updated replicas available' });
    expect(rolloutProgress('Deployment', deployment({ updatedReplicas: 2, replicas: 2, availableReplicas: 2 }))).toEqual({ done: true });
  });

  it('a deployment past its progress deadline has failed, not merely not finished', () => {
    const stuck = deployment({ updatedReplicas: 1, replicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    expect(rolloutProgress('Deployment', stuck)).toEqual({ done: false, failed: 'the deployment exceeded its progress deadline' });
  });

  it('spec.replicas defaults to 1 as in Kubernetes', () => {
    const obj = { metadata: { generation: 1 }, spec: {}, status: { observedGeneration: 1, updatedReplicas: 1, replicas: 1, availableReplicas: 1 } };
    expect(rolloutProgress('Deployment', obj)).toEqual({ done: true });
    expect(rolloutProgress('Deployment', { ...obj, status: { observedGeneration: 1 } })).toMatchObject({ done: false });
  });

  it('a statefulset waits for ready replicas and for the update revision to become current', () => {
    const sts = (status: Record<string, unknown>) => ({ metadata: { generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, ...status } });
    expect(rolloutProgress('StatefulSet', sts({ readyReplicas: 2, updatedReplicas: 3 }))).toMatchObject({ waiting: '2 of 3 replicas ready' });
    expect(rolloutProgress('StatefulSet', sts({ readyReplicas: 3, updatedReplicas: 3, currentRevision: 'a', updateRevision: 'b' }))).toMatchObject({ waiting: 'revision b to become current' });
    expect(rolloutProgress('StatefulSet', sts({ readyReplicas: 3, updatedReplicas: 3, currentRevision: 'b', updateRevision: 'b' }))).toEqual({ done: true });
  });

  it('a daemonset waits until every scheduled pod is updated and available', () => {
    const ds = (status: Record<string, unknown>) => ({ metadata: { generation: 5 }, status: { observedGeneration: 5, desiredNumberScheduled: 4, ...status } });
    expect(rolloutProgress('DaemonSet', ds({ updatedNumberScheduled: 3, numberAvailable: 4 }))).toMatchObject({ waiting: '3 of 4 pods updated' });
    expect(rolloutProgress('DaemonSet', ds({ updatedNumberScheduled: 4, numberAvailable: 3 }))).toMatchObject({ waiting: '3 of 4 updated pods available' });
    expect(rolloutProgress('DaemonSet', ds({ updatedNumberScheduled: 4, numberAvailable: 4 }))).toEqual({ done: true });
  });
});
