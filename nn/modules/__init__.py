"""Layers. Each file holds one family: module/container (the machinery), then the layers."""
from .module import Module, Parameter
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Linear
from .sparse import Embedding
from .dropout import Dropout
from .activation import Tanh, ReLU, Sigmoid, Softmax, LogSoftmax, LeakyReLU, GELU, Identity
from .flatten import Flatten
from .conv import Conv2d
from .pooling import MaxPool2d
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .rnn_cells import RNNCell, LSTMCell, GRUCell
from .rnn import RNN, LSTM, GRU
from .loss import NLLLoss, CrossEntropyLoss, MSELoss, BCELoss, BCEWithLogitsLoss
from .recording import GRAPH_MODES, recorded_as
