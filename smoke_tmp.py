import time, numpy as np, torch
from service.zoo.spec import ModelSpec
from service.training.trainer import train
from service.zoo.datasets_builtin import load_digits_unit
from service.zoo.pca import pca_reconstruction_mse
X, y = load_digits_unit()
rng = np.random.default_rng(42); p = rng.permutation(len(X)); tr, te = p[:1437], p[1437:]
def run(d, **kw):
    s = ModelSpec.model_validate(d)
    t=time.time(); r = train(spec=s, X=X[tr], image_shape=(8,8,1) if 'conv' in d['architecture'].get('kind','') else None)
    m = r.model
    with torch.no_grad():
        pre = m.preprocessor
        xt = torch.from_numpy(X[te]); e = m.row_errors(xt).mean().item()
        ptr = pre(torch.from_numpy(X[tr])).numpy(); pte = pre(xt).numpy()
    pca = pca_reconstruction_mse(ptr, pte, s.architecture.code_size)
    with torch.no_grad(): raw = ((m.reconstruct(xt)-xt)**2).mean().item()
    praw = pca_reconstruction_mse(X[tr], X[te], s.architecture.code_size)
    print(d, f"ratio_pre={e/pca:.3f} ratio_raw={raw/praw:.3f} time={time.time()-t:.1f} train_s={r.metrics['train_time_s']:.1f} ep={r.metrics['epochs_run']} best={r.metrics['best_epoch']} valmse={r.metrics['val_mse']:.4f} pcaval={r.metrics['pca_val_mse']:.4f}")
    return r
import sys
exec(sys.argv[1])
